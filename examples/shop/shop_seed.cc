// shop-seed: creates the tenant databases, the schema (modelled on StartupWebApp) and realistic
// data: members, products with SKUs, and orders spread over the past days.
//
//   shop-seed [--tenant T]... [--members N] [--products N] [--orders N] [--days D]
//             [--app-role NAME]
//
// Connects with libpq's environment. A tenant that already holds products is left as it is, so a
// second run changes nothing. --app-role creates (or updates) a login role that owns nothing and
// may read and write the shop's tables; its password comes from $SHOP_APP_PASSWORD, never from
// the command line.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "shop_db.h"

namespace {

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS user_member (
  id bigserial PRIMARY KEY, username text UNIQUE NOT NULL, email text NOT NULL,
  first_name text, last_name text, created_date_time timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS order_status (
  id int PRIMARY KEY, identifier text UNIQUE NOT NULL, title text NOT NULL);
CREATE TABLE IF NOT EXISTS order_product (
  id bigserial PRIMARY KEY, title text NOT NULL, title_url text UNIQUE NOT NULL,
  identifier text UNIQUE NOT NULL, headline text, description_part_1 text,
  created_date_time timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS order_sku (
  id bigserial PRIMARY KEY, product_id bigint NOT NULL REFERENCES order_product(id),
  color text, size text, description text, price numeric(10,2) NOT NULL, inventory int NOT NULL);
CREATE TABLE IF NOT EXISTS order_cart (
  id bigserial PRIMARY KEY, member_id bigint REFERENCES user_member(id), anonymous_id text,
  created_date_time timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS order_cart_sku (
  id bigserial PRIMARY KEY, cart_id bigint NOT NULL REFERENCES order_cart(id) ON DELETE CASCADE,
  sku_id bigint NOT NULL REFERENCES order_sku(id), quantity int NOT NULL CHECK (quantity > 0));
CREATE TABLE IF NOT EXISTS order_order (
  id bigserial PRIMARY KEY, identifier text UNIQUE NOT NULL, member_id bigint REFERENCES user_member(id),
  order_status_id int NOT NULL REFERENCES order_status(id), sales_tax_amt numeric(10,2),
  order_total numeric(10,2) NOT NULL, created_date_time timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS order_order_created ON order_order (created_date_time);
CREATE TABLE IF NOT EXISTS order_order_sku (
  id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES order_order(id) ON DELETE CASCADE,
  sku_id bigint NOT NULL REFERENCES order_sku(id), quantity int NOT NULL, price_each numeric(10,2));
)SQL";

// Data generated inside PostgreSQL (one round trip per table), deterministic for a given size.
constexpr const char* kData = R"SQL(
INSERT INTO order_status VALUES (1, 'new', 'New'), (2, 'paid', 'Paid'), (3, 'shipped', 'Shipped'),
  (4, 'delivered', 'Delivered'), (5, 'cancelled', 'Cancelled') ON CONFLICT DO NOTHING;
SELECT setseed(0.42);
INSERT INTO user_member (username, email, first_name, last_name, created_date_time)
  SELECT 'member' || g, 'member' || g || '@example.com',
         (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald'])[1 + g % 6],
         (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth'])[1 + (g / 6) % 6],
         now() - ($4::int || ' days')::interval * random()
  FROM generate_series(1, $1::int) g;
INSERT INTO order_product (title, title_url, identifier, headline, description_part_1)
  SELECT (ARRAY['Paper Clip','Stapler','Notebook','Desk Lamp','Mug','Pen'])[1 + g % 6] || ' ' || g,
         'product-' || g, 'P' || lpad(g::text, 6, '0'), 'A fine product', 'Made to last.'
  FROM generate_series(1, $2::int) g;
INSERT INTO order_sku (product_id, color, size, description, price, inventory)
  SELECT p.id, c, s, p.title || ' ' || c || ' ' || s, round((2 + random() * 98)::numeric, 2),
         (100 + random() * 900)::int
  FROM order_product p, unnest(ARRAY['red','blue']) c, unnest(ARRAY['S','L']) s;
INSERT INTO order_order (identifier, member_id, order_status_id, sales_tax_amt, order_total,
                         created_date_time)
  SELECT md5('seed' || g), 1 + (g * 7919) % $1::int, 1 + g % 5, 0, 0,
         now() - ($4::int || ' days')::interval * (1 - g::float / ($3::int + 1))
  FROM generate_series(1, $3::int) g;
INSERT INTO order_order_sku (order_id, sku_id, quantity, price_each)
  SELECT o.id, s.id, 1 + o.id % 3, s.price FROM order_order o
  JOIN order_sku s ON s.id = 1 + (o.id * 31) % (SELECT count(*) FROM order_sku);
UPDATE order_order o SET order_total = round(t.total * 1.08, 2), sales_tax_amt = round(t.total * 0.08, 2)
  FROM (SELECT order_id, sum(price_each * quantity) total FROM order_order_sku GROUP BY order_id) t
  WHERE t.order_id = o.id;
)SQL";

int Fail(const std::string& what, const shop::Db& db) {
  std::fprintf(stderr, "error: %s: %s", what.c_str(), db.error().c_str());
  return 2;
}

// Runs a script of several statements, each with the same parameters.
bool RunScript(shop::Db& db, const std::string& script, const std::vector<std::string>& params) {
  size_t start = 0;
  while (start < script.size()) {
    size_t end = script.find(";\n", start);
    if (end == std::string::npos) end = script.size();
    std::string stmt = script.substr(start, end - start);
    start = end + 2;
    if (stmt.find_first_not_of(" \n") == std::string::npos) continue;
    // The sizes are validated integers, written into the text: a statement may use any subset.
    for (size_t i = params.size(); i > 0; --i) {
      std::string mark = "$" + std::to_string(i);
      for (size_t at = stmt.find(mark); at != std::string::npos; at = stmt.find(mark, at)) {
        stmt.replace(at, mark.size(), params[i - 1]);
      }
    }
    if (!db.Exec(stmt)) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> tenants;
  std::string members = "200", products = "20", orders = "2000", days = "30", app_role;
  const char* usage =
      "usage: shop-seed [--tenant T]... [--members N] [--products N] [--orders N] [--days D] "
      "[--app-role NAME]\n";
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "error: %s needs a value\n%s", flag.c_str(), usage);
      return 1;
    }
    std::string value = argv[i + 1];
    if (flag == "--tenant") tenants.push_back(value);
    else if (flag == "--members") members = value;
    else if (flag == "--products") products = value;
    else if (flag == "--orders") orders = value;
    else if (flag == "--days") days = value;
    else if (flag == "--app-role") app_role = value;
    else {
      std::fprintf(stderr, "error: unknown option %s\n%s", flag.c_str(), usage);
      return 1;
    }
  }
  if (tenants.empty()) tenants = shop::kTenants;
  for (const auto& n : {members, products, orders, days}) {
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n == "0") {
      std::fprintf(stderr, "error: sizes must be positive integers, not '%s'\n%s", n.c_str(), usage);
      return 1;
    }
  }
  const char* password = std::getenv("SHOP_APP_PASSWORD");
  if (!app_role.empty() && (password == nullptr || *password == '\0')) {
    std::fprintf(stderr, "error: --app-role needs its password in $SHOP_APP_PASSWORD\n");
    return 1;
  }

  shop::Db admin("postgres");
  if (!app_role.empty()) {
    // The password travels as a parameter of a DO block's format(), never in the statement text.
    auto r = admin.Exec("SELECT 1 FROM pg_roles WHERE rolname = $1", {app_role});
    if (!r) return Fail("cannot reach PostgreSQL", admin);
    std::string verb = PQntuples(r.get()) == 0 ? "CREATE ROLE" : "ALTER ROLE";
    auto q = admin.Exec("SELECT format('" + verb + " %I LOGIN PASSWORD %L', $1::text, $2::text)",
                        {app_role, password});
    if (!q || !admin.Exec(PQgetvalue(q.get(), 0, 0))) return Fail("cannot set up the app role", admin);
  }
  for (const auto& tenant : tenants) {
    std::string dbname = shop::TenantDatabase(tenant);
    auto r = admin.Exec("SELECT 1 FROM pg_database WHERE datname = $1", {dbname});
    if (!r) return Fail("cannot reach PostgreSQL", admin);
    if (PQntuples(r.get()) == 0) {
      auto q = admin.Exec("SELECT format('CREATE DATABASE %I', $1::text)", {dbname});
      if (!q || !admin.Exec(PQgetvalue(q.get(), 0, 0))) return Fail("cannot create " + dbname, admin);
    }
    shop::Db db(dbname);
    if (!RunScript(db, kSchema, {})) return Fail("cannot create the schema in " + dbname, db);
    auto count = db.Exec("SELECT count(*) FROM order_product");
    if (!count) return Fail("cannot read " + dbname, db);
    bool seeded = std::atoll(PQgetvalue(count.get(), 0, 0)) > 0;
    if (!seeded) {
      if (!db.Exec("BEGIN") || !RunScript(db, kData, {members, products, orders, days}) ||
          !db.Exec("COMMIT")) {
        return Fail("cannot seed " + dbname, db);
      }
    }
    if (!app_role.empty()) {
      auto q = db.Exec(
          "SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %1$I; "
          "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %1$I; GRANT CONNECT ON DATABASE %2$I TO %1$I', "
          "$1::text, $2::text)",
          {app_role, dbname});
      if (!q || !db.Exec(PQgetvalue(q.get(), 0, 0))) return Fail("cannot grant to the app role", db);
    }
    std::printf("%s: %s\n", dbname.c_str(), seeded ? "already seeded" : "seeded");
  }
  return 0;
}
