#include <gtest/gtest.h>

#include "config/config.h"

namespace lifeboat {
namespace {

TEST(ConfigTest, ResolvesPathsRelativeToTheFile) {
  Result<Config> c = ParseConfig("[repository]\npath = \"repo\"\ncompression = 3\n", "/etc/lb/lifeboat.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->repository.path, "/etc/lb/repo");
  EXPECT_EQ(c->repository.compression, 3);
  EXPECT_EQ(c->state.dir, "/etc/lb/.lifeboat");
  Result<Config> abs = ParseConfig("[repository]\npath = \"/var/backups/lifeboat\"\n[state]\ndir = \"/var/lib/lifeboat\"\n", "/x/l.toml");
  EXPECT_EQ(abs->repository.path, "/var/backups/lifeboat");
  EXPECT_EQ(abs->state.dir, "/var/lib/lifeboat");
}

TEST(ConfigTest, ARebuildsDnsHookIsAProgramRelativeToTheConfig) {
  Result<Config> c = ParseConfig("[repository]\npath = \"repo\"\n[rebuild]\ndns_hook = [\"hooks/dns\", \"--zone\", \"shop\"]\n",
                                 "/etc/lb/lifeboat.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rebuild.dns_hook, (std::vector<std::string>{"/etc/lb/hooks/dns", "--zone", "shop"}));
  Result<Config> none = ParseConfig("[repository]\npath = \"repo\"\n", "/etc/lb/lifeboat.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->rebuild.dns_hook.empty());
  Result<Config> bad = ParseConfig("[repository]\npath = \"repo\"\n[rebuild]\ndns_hook = \"/bin/dns\"\n", "/l.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kConfig);
  EXPECT_NE(bad.status().message().find("'rebuild.dns_hook'"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("an array of strings"), std::string::npos) << bad.status().message();
  Result<Config> unknown = ParseConfig("[repository]\npath = \"repo\"\n[rebuild]\ndns = []\n", "/l.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown key"), std::string::npos) << unknown.status().message();
}

TEST(ConfigTest, AnS3RepositoryAndItsOptions) {
  Result<Config> c = ParseConfig(
      "[repository]\nurl = \"s3://shop-backups/prod\"\nendpoint = \"http://127.0.0.1:7480\"\n"
      "uri_style = \"path\"\nverify_tls = false\ncredentials_file = \"aws/credentials\"\nprofile = \"dr\"\n"
      "ca_file = \"/etc/ssl/rgw.pem\"\nretry_seconds = 5\n",
      "/etc/lb/lifeboat.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->repository.is_s3());
  EXPECT_EQ(c->repository.location(), "s3://shop-backups/prod");
  EXPECT_EQ(c->repository.region, "us-east-1");
  EXPECT_FALSE(c->repository.verify_tls);
  EXPECT_EQ(c->repository.credentials_file, "/etc/lb/aws/credentials");
  EXPECT_EQ(c->repository.retry_seconds, 5);
  EXPECT_EQ(c->repository.multipart_threshold_mib, 64);
  EXPECT_EQ(ParseConfig("[repository]\nurl = \"s3://b/p\"\npath = \"r\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': [repository] needs exactly one of 'path' and 'url'");
  EXPECT_EQ(ParseConfig("[repository]\nurl = \"https://b/p\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': [repository] url 'https://b/p' is not an s3:// url");
  EXPECT_EQ(ParseConfig("[repository]\nurl = \"s3://bkt/p\"\nuri_style = \"virtual\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': [repository] uri_style is \"virtual\", expected \"path\" or \"host\"");
  EXPECT_EQ(ParseConfig("[repository]\nurl = \"s3://bkt/p\"\nverify_tls = \"no\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 3: 'repository.verify_tls' must be true or false");
}

TEST(ConfigTest, AnOffsiteRepositoryHasTheSameKeysAndItsOwnRetention) {
  Result<Config> c = ParseConfig(
      "[repository]\npath = \"repo\"\nwal_acknowledge = \"any\"\n\n[repository.offsite]\n"
      "url = \"s3://dr-site/shop\"\nendpoint = \"https://rgw.dr.example\"\ndays = 30\n",
      "/etc/lb/lifeboat.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->repository.name, "primary");
  EXPECT_EQ(c->repository.wal_acknowledge, "any");
  ASSERT_TRUE(c->offsite.has_value());
  EXPECT_EQ(c->offsite->name, "offsite");
  EXPECT_EQ(c->offsite->location(), "s3://dr-site/shop");
  EXPECT_EQ(c->offsite->days, 30);
  EXPECT_FALSE(ParseConfig("[repository]\npath = \"r\"\n", "/x/l.toml")->offsite.has_value());
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[repository.offsite]\ndays = 3\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': [repository.offsite] needs exactly one of 'path' and 'url'");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[repository.offsite]\npath = \"o\"\nwal_acknowledge = \"all\"\n",
                        "/x/l.toml").status().message(),
            "config '/x/l.toml' line 5: unknown key 'repository.offsite.wal_acknowledge'");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\nwal_acknowledge = \"most\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': [repository] wal_acknowledge is \"most\", expected \"all\" or \"any\"");
}

TEST(ConfigTest, UnknownKeysNameFileLineAndKey) {
  Result<Config> c = ParseConfig("[repository]\npath = \"r\"\n\npth = \"x\"\n", "/x/l.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "config '/x/l.toml' line 4: unknown key 'repository.pth'");
  EXPECT_EQ(c.status().hint(),
            "keys of [repository] are: ca_file, compression, credentials_file, endpoint, multipart_threshold_mib, "
            "offsite, passphrase_file, path, profile, region, retry_seconds, sse, storage_class, uri_style, url, "
            "verify_tls, wal_acknowledge");
  EXPECT_EQ(ExitCodeFor(c.status()), 1);
  Result<Config> section = ParseConfig("[repository]\npath = \"r\"\n[reposit]\n", "/x/l.toml");
  EXPECT_EQ(section.status().message(), "config '/x/l.toml' line 3: unknown key 'reposit'");
}

TEST(ConfigTest, WrongTypesAndMissingKeysAreErrors) {
  EXPECT_EQ(ParseConfig("[repository]\npath = 5\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 2: 'repository.path' must be a string");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\ncompression = \"high\"\n", "/x/l.toml")
                .status().message(),
            "config '/x/l.toml' line 3: 'repository.compression' must be an integer");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\ncompression = 40\n", "/x/l.toml")
                .status().message(),
            "config '/x/l.toml' line 3: 'repository.compression' is 40, outside 0..19");
  EXPECT_EQ(ParseConfig("[repository]\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': [repository] needs exactly one of 'path' and 'url'");
  EXPECT_EQ(ParseConfig("", "/x/l.toml").status().message(),
            "config '/x/l.toml': missing section [repository]");
  Result<Config> syntax = ParseConfig("[repository\n", "/x/l.toml");
  EXPECT_EQ(syntax.status().code(), Code::kConfig);
  EXPECT_EQ(syntax.status().message().rfind("config '/x/l.toml' line 1: ", 0), 0u);
}

TEST(ConfigTest, MissingFileIsAConfigError) {
  Result<Config> c = LoadConfig("/nonexistent/lifeboat.toml");
  EXPECT_EQ(c.status().message(), "cannot read config '/nonexistent/lifeboat.toml': no such file");
  EXPECT_EQ(ExitCodeFor(c.status()), 1);
}

}  // namespace
}  // namespace lifeboat

#include "base/time.h"
#include "verify/expectation.h"

namespace lifeboat {
namespace {

TEST(ConfigTest, ReadsObjectivesAndVerifySections) {
  Result<Config> c = ParseConfig(R"([repository]
path = "r"
[objectives]
rto = "1h30m"
rpo = "15m"
[verify]
critical_tables = ["shop.public.order_order"]
shrink_limit = 0.2
budget = "1m30s"
[[verify.freshness]]
database = "shop"
table = "order_order"
column = "created_date_time"
[[verify.check]]
name = "orders"
database = "shop"
sql = "select 1"
expect = "rows = 1"
)", "/x/l.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->objectives.rto_seconds, 5400);
  EXPECT_EQ(c->objectives.rpo_seconds, 900);
  EXPECT_EQ(c->verify.critical_tables, std::vector<std::string>{"shop.public.order_order"});
  EXPECT_DOUBLE_EQ(c->verify.shrink_limit, 0.2);
  EXPECT_EQ(c->verify.budget_seconds, 90);
  ASSERT_EQ(c->verify.freshness.size(), 1u);
  EXPECT_EQ(c->verify.freshness[0].column, "created_date_time");
  ASSERT_EQ(c->verify.checks.size(), 1u);
  EXPECT_EQ(c->verify.checks[0].expect, "rows = 1");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[objectives]\nrpo = \"24\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 4: 'objectives.rpo': invalid duration '24'");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[verify]\nbudget = \"fast\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 4: 'verify.budget': invalid duration 'fast'");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n", "/x/l.toml")->verify.budget_seconds, 0);
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[[verify.check]]\nname = \"x\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': missing key 'verify.check.database'");
}

TEST(ConfigTest, ReadsTheScheduleAndRefusesABadOneNamingTheLine) {
  Result<Config> c = ParseConfig(R"([repository]
path = "r"
[schedule]
timezone = "America/New_York"
full = "daily 03:00"
window = "03:00-04:00"
incremental = "every 1h"
expire = "daily 04:30"
copy = "after backup"
verify = "0 5 * * *"
drill = "monthly"
drill_point = "random"
[agent]
stream = false
)", "/x/l.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->schedule.timezone, "America/New_York");
  EXPECT_EQ(c->schedule.full, "daily 03:00");
  EXPECT_EQ(c->schedule.window, "03:00-04:00");
  EXPECT_EQ(c->schedule.copy, "after backup");
  EXPECT_EQ(c->schedule.verify, "0 5 * * *");
  EXPECT_EQ(c->schedule.drill, "monthly");
  EXPECT_EQ(c->schedule.drill_point, "random");
  EXPECT_FALSE(c->agent.stream);
  Result<Config> none = ParseConfig("[repository]\npath = \"r\"\n", "/x/l.toml");
  EXPECT_EQ(none->schedule.timezone, "UTC");
  EXPECT_EQ(none->schedule.full, "");
  EXPECT_TRUE(none->agent.stream);

  Result<Config> bad = ParseConfig("[repository]\npath = \"r\"\n[schedule]\nfull = \"nightly\"\n", "/x/l.toml");
  EXPECT_EQ(bad.status().code(), Code::kConfig);
  EXPECT_EQ(bad.status().message(),
            "config '/x/l.toml' line 4: 'schedule.full': invalid schedule 'nightly': not a known form");
  EXPECT_NE(bad.status().hint().find("'daily HH:MM'"), std::string::npos) << bad.status().hint();
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[schedule]\ntimezone = \"Eastern\"\n", "/x/l.toml")
                .status()
                .message(),
            "config '/x/l.toml' line 4: 'schedule.timezone': unknown time zone 'Eastern'");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[schedule]\nwindow = \"3-4\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 4: 'schedule.window': invalid window '3-4'");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[schedule]\ndrill_point = \"newest\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 4: 'schedule.drill_point': is \"newest\", expected \"latest\" or \"random\"");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[schedule]\nfulll = \"daily 03:00\"\n", "/x/l.toml")
                .status()
                .message()
                .substr(0, 55),
            "config '/x/l.toml' line 4: unknown key 'schedule.fulll'");
}

// [[contacts]] (the runbook's contact list) and [alert] min_free_percent.
TEST(ConfigTest, ReadsTheContactsAndRefusesOnesThatAreNotTables) {
  Result<Config> c = ParseConfig(R"([repository]
path = "r"
[alert]
min_free_percent = 15
[[contacts]]
name = "Ops Lead"
email = "ops@example.com"
role = "primary on-call"
[[contacts]]
name = "DBA"
)", "/x/l.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->alert.min_free_percent, 15);
  ASSERT_EQ(c->contacts.size(), 2u);
  EXPECT_EQ(c->contacts[0].name, "Ops Lead");
  EXPECT_EQ(c->contacts[0].email, "ops@example.com");
  EXPECT_EQ(c->contacts[0].role, "primary on-call");
  EXPECT_EQ(c->contacts[1].name, "DBA");
  EXPECT_EQ(c->contacts[1].email, "");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[alert]\nmin_free_percent = 100\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 4: 'alert.min_free_percent' is 100, outside 0..99");
  Result<Config> table = ParseConfig("[repository]\npath = \"r\"\n[contacts]\nname = \"x\"\n", "/x/l.toml");
  EXPECT_EQ(table.status().message(), "config '/x/l.toml' line 3: 'contacts' must be an array of tables ([[contacts]])");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[[contacts]]\nemail = \"a@b\"\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': missing key 'contacts.name'");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\n[[contacts]]\nname = \"a\"\nphone = \"1\"\n", "/x/l.toml")
                .status()
                .message()
                .substr(0, 55),
            "config '/x/l.toml' line 5: unknown key 'contacts.phone'");
}

TEST(DurationTest, ParsesUnitsAndRefusesBareNumbers) {
  EXPECT_EQ(*ParseDuration("30s"), 30);
  EXPECT_EQ(*ParseDuration("4h"), 14400);
  EXPECT_EQ(*ParseDuration("7d"), 604800);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("h").ok());
  EXPECT_FALSE(ParseDuration("5w").ok());
  EXPECT_EQ(FormatDuration(5400), "1h30m");
  EXPECT_EQ(FormatDuration(0.25), "0.25s");
}

TEST(ExpectationTest, ParsesEveryForm) {
  EXPECT_TRUE(verify::ParseExpectation("> 0")->Holds(1));
  EXPECT_FALSE(verify::ParseExpectation("> 0")->Holds(0));
  EXPECT_TRUE(verify::ParseExpectation(">= 5")->Holds(5));
  EXPECT_TRUE(verify::ParseExpectation("= 3")->Holds(3));
  EXPECT_TRUE(verify::ParseExpectation("!= 0")->Holds(2));
  EXPECT_TRUE(verify::ParseExpectation("< 10")->Holds(9.5));
  EXPECT_TRUE(verify::ParseExpectation("<= 10")->Holds(10));
  EXPECT_TRUE(verify::ParseExpectation("between 1 and 3")->Holds(3));
  EXPECT_FALSE(verify::ParseExpectation("between 1 and 3")->Holds(3.5));
  Result<verify::Expectation> rows = verify::ParseExpectation("rows = 2");
  EXPECT_TRUE(rows->on_rows);
  EXPECT_TRUE(rows->Holds(2));
  for (const char* bad : {"", ">", "~ 3", "between 3 and 1", "rows", "= x", "> 1 2"}) {
    EXPECT_FALSE(verify::ParseExpectation(bad).ok()) << bad;
  }
  EXPECT_EQ(verify::ParseExpectation("~ 3").status().message(), "invalid expectation '~ 3'");
}

}  // namespace
}  // namespace lifeboat
