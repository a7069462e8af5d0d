// The runbook engine with fake steps, no PostgreSQL: a run killed at every step boundary (a
// real crash: the process exits inside the step) resumes and does each step's work once; a
// failing step reverts; a step whose check says it is done is not run; a step past its timeout
// fails; a damaged journal is a clear error; a second run waits for the lock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/status.h"
#include "base/time.h"
#include "runbook/engine.h"
#include "runbook/journal.h"

namespace fs = std::filesystem;

namespace lifeboat::runbook {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-engine-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // What the steps did to "the world": one line per effect, in order.
  std::string Effects() const { return Slurp(dir_ + "/effects"); }
  void Effect(const std::string& what) const { std::ofstream(dir_ + "/effects", std::ios::app) << what << "\n"; }
  bool HasEffect(const std::string& what) const {
    return ("\n" + Effects()).find("\n" + what + "\n") != std::string::npos;
  }

  // Steps a, b and c. Each records its effect and a var; its check looks at the world only.
  // With `crash_in` set, the process exits inside that step: before its effect, or after it
  // (before the journal records the step done) when `crash_after_effect`.
  Plan Abc(const std::string& crash_in = "", bool crash_after_effect = false) {
    Plan plan;
    plan.kind = "test";
    for (std::string name : {"a", "b", "c"}) {
      Step s;
      s.name = name;
      s.description = "step " + name;
      s.done = [this, name](StepContext&) -> Result<bool> { return HasEffect(name); };
      s.run = [this, name, crash_in, crash_after_effect](StepContext& ctx) -> Result<std::string> {
        if (name == crash_in && !crash_after_effect) _exit(9);
        Effect(name);
        if (name == crash_in) _exit(9);
        ctx.run.vars[name] = true;
        return "did " + name;
      };
      plan.steps.push_back(s);
    }
    return plan;
  }

  Say Collect() {
    return [this](const std::string& line) { said_.push_back(line); };
  }

  std::string dir_;
  std::vector<std::string> said_;
};

TEST_F(EngineTest, AStepsRunInOrderAndTheJournalRecordsEach) {
  Journal journal(dir_, nullptr);
  Engine engine(&journal, Collect());
  Plan plan = Abc();
  Result<RunRecord> run = engine.Begin(plan, {{"target", "latest"}});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(engine.Execute(&*run, plan).ok());
  EXPECT_EQ(Effects(), "a\nb\nc\n");
  Result<RunRecord> saved = journal.Load(run->id);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->state, RunState::kSucceeded);
  EXPECT_EQ(saved->exit_code, 0);
  EXPECT_EQ(saved->params["target"], "latest");
  EXPECT_EQ(saved->vars, nlohmann::json({{"a", true}, {"b", true}, {"c", true}}));
  ASSERT_EQ(saved->steps.size(), 3u);
  for (const StepRecord& s : saved->steps) {
    EXPECT_EQ(s.state, StepState::kDone);
    EXPECT_EQ(s.detail, "did " + s.name);
  }
  ASSERT_EQ(said_.size(), 6u);
  EXPECT_EQ(said_[0], "[a] step a");
  EXPECT_EQ(said_[1].rfind("[a] done in ", 0), 0u) << said_[1];
  EXPECT_EQ(said_[1].substr(said_[1].size() - 7), ": did a") << said_[1];
}

TEST_F(EngineTest, ARunKilledAtEveryStepBoundaryResumesAndDoesEachStepOnce) {
  for (std::string step : {"a", "b", "c"}) {
    for (bool after_effect : {false, true}) {
      SCOPED_TRACE("killed in step " + step + (after_effect ? " after its effect" : " before its effect"));
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      std::string id;
      {
        Journal journal(dir_, nullptr);
        Engine engine(&journal, [](const std::string&) {});
        Plan plan = Abc();
        Result<RunRecord> run = engine.Begin(plan, nlohmann::json::object());
        ASSERT_TRUE(run.ok());
        id = run->id;
        pid_t child = fork();
        if (child == 0) {
          Plan crashing = Abc(step, after_effect);
          (void)engine.Execute(&*run, crashing);
          _exit(0);  // not reached: the step exits the process
        }
        int status = 0;
        ASSERT_EQ(waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 9);
      }
      // What the crash left: the steps before done, this one running, the rest pending.
      Journal journal(dir_, nullptr);
      Result<RunRecord> left = journal.Load(id);
      ASSERT_TRUE(left.ok()) << left.status().ToString();
      EXPECT_EQ(left->state, RunState::kRunning);
      EXPECT_EQ(left->Effective(), RunState::kInterrupted);  // its process is gone
      for (const StepRecord& s : left->steps) {
        StepState expected = s.name < step ? StepState::kDone : s.name == step ? StepState::kRunning : StepState::kPending;
        EXPECT_EQ(s.state, expected) << s.name;
      }
      // Resumed: every step's effect exactly once, the interrupted one done by its check
      // when its effect had happened.
      Engine engine(&journal, [](const std::string&) {});
      Plan plan = Abc();
      ASSERT_TRUE(engine.Execute(&*left, plan).ok());
      EXPECT_EQ(Effects(), "a\nb\nc\n");
      Result<RunRecord> done = journal.Load(id);
      ASSERT_TRUE(done.ok());
      EXPECT_EQ(done->state, RunState::kSucceeded);
      EXPECT_EQ(done->Step(step)->detail, after_effect ? "already done" : "did " + step);
    }
  }
}

TEST_F(EngineTest, AFailingStepRevertsAndTheRestIsNotRun) {
  Journal journal(dir_, nullptr);
  Engine engine(&journal, Collect());
  Plan plan = Abc();
  plan.steps[1].run = [this](StepContext&) -> Result<std::string> {
    Effect("b tried");
    return Status::Verification("health gate failed: b broke");
  };
  std::string revert_result = "undid a";
  plan.revert = [&](StepContext& ctx, const Status& failure) -> Result<std::string> {
    Effect("revert after: " + failure.message() + "; vars " + ctx.run.vars.dump());
    return revert_result;
  };
  Result<RunRecord> run = engine.Begin(plan, nlohmann::json::object());
  ASSERT_TRUE(run.ok());
  Status s = engine.Execute(&*run, plan);
  EXPECT_EQ(s.code(), Code::kVerification);
  EXPECT_EQ(s.message(), "health gate failed: b broke");
  EXPECT_EQ(Effects(), "a\nb tried\nrevert after: health gate failed: b broke; vars {\"a\":true}\n");
  Result<RunRecord> saved = journal.Load(run->id);
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->state, RunState::kReverted);
  EXPECT_EQ(saved->exit_code, 3);
  EXPECT_EQ(saved->error, "health gate failed: b broke");
  EXPECT_EQ(saved->result["revert"], "undid a");
  EXPECT_EQ(saved->Step("b")->state, StepState::kFailed);
  EXPECT_EQ(saved->Step("b")->detail, "health gate failed: b broke");
  EXPECT_EQ(saved->Step("c")->state, StepState::kPending);

  // A revert with nothing to undo leaves the run failed; one that fails says why.
  for (bool revert_fails : {false, true}) {
    fs::remove(dir_ + "/effects");
    revert_result = "";
    if (revert_fails) {
      plan.revert = [](StepContext&, const Status&) -> Result<std::string> {
        return Status::IO("cannot promote the previous secret version");
      };
    }
    Result<RunRecord> again = engine.Begin(plan, nlohmann::json::object());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(engine.Execute(&*again, plan).code(), Code::kVerification);
    Result<RunRecord> failed = journal.Load(again->id);
    ASSERT_TRUE(failed.ok());
    EXPECT_EQ(failed->state, RunState::kFailed);
    EXPECT_FALSE(failed->result.contains("revert"));
    if (revert_fails) {
      EXPECT_EQ(failed->result["revert_error"], "cannot promote the previous secret version");
    }
  }
}

TEST_F(EngineTest, AStepWhoseCheckSaysDoneIsNotRun) {
  Effect("b");  // the world already has b's effect
  Journal journal(dir_, nullptr);
  Engine engine(&journal, Collect());
  Plan plan = Abc();
  Result<RunRecord> run = engine.Begin(plan, nlohmann::json::object());
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(engine.Execute(&*run, plan).ok());
  EXPECT_EQ(Effects(), "b\na\nc\n");
  EXPECT_EQ(run->Step("b")->detail, "already done");
  EXPECT_FALSE(run->vars.contains("b"));
  // A check that fails is the step's failure; the step itself does not run.
  plan.steps[2].done = [](StepContext&) -> Result<bool> { return Status::IO("cannot read the registry"); };
  fs::remove(dir_ + "/effects");
  Result<RunRecord> second = engine.Begin(plan, nlohmann::json::object());
  ASSERT_TRUE(second.ok());
  Status s = engine.Execute(&*second, plan);
  EXPECT_EQ(s.message(), "cannot read the registry");
  EXPECT_EQ(Effects(), "a\nb\n");
}

TEST_F(EngineTest, AStepPastItsTimeoutFails) {
  Journal journal(dir_, nullptr);
  Engine engine(&journal, Collect());
  Plan plan = Abc();
  plan.steps[0].timeout_seconds = 0.05;
  plan.steps[0].run = [](StepContext& ctx) -> Result<std::string> {
    EXPECT_LE(ctx.SecondsLeft(), 0.05);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_LT(ctx.SecondsLeft(), 0);
    return std::string("late");
  };
  Result<RunRecord> run = engine.Begin(plan, nlohmann::json::object());
  ASSERT_TRUE(run.ok());
  Status s = engine.Execute(&*run, plan);
  EXPECT_EQ(s.code(), Code::kIO);
  EXPECT_EQ(s.message().rfind("step 'a' took ", 0), 0u) << s.message();
  std::string tail = ", past its timeout of " + FormatDuration(0.05);
  EXPECT_EQ(s.message().substr(s.message().size() - tail.size()), tail) << s.message();
  EXPECT_EQ(Effects(), "");
  EXPECT_EQ(journal.Load(run->id)->state, RunState::kFailed);
}

TEST_F(EngineTest, ADamagedJournalIsAClearErrorNamingTheFileAndTheKey) {
  Journal journal(dir_, nullptr);
  Engine engine(&journal, Collect());
  Plan plan = Abc();
  Result<RunRecord> run = engine.Begin(plan, nlohmann::json::object());
  ASSERT_TRUE(run.ok());
  std::string path = dir_ + "/runs/" + run->id + ".json";
  std::string where = "run journal '" + path + "'";
  std::string good = Slurp(path);

  std::ofstream(path, std::ios::trunc) << good.substr(0, good.size() / 2);  // a torn write
  Result<RunRecord> torn = journal.Load(run->id);
  EXPECT_EQ(torn.status().code(), Code::kIO);
  EXPECT_EQ(ExitCodeFor(torn.status()), 2);
  EXPECT_EQ(torn.status().message(), where + " is not JSON (truncated or damaged)");
  EXPECT_EQ(torn.status().hint(), "move it aside to go on; 'lifeboat runs' lists the other runs");
  EXPECT_EQ(journal.List().status().message(), torn.status().message());

  auto edited = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = nlohmann::json::parse(good);
    edit(j);
    std::ofstream(path, std::ios::trunc) << j.dump();
    Result<RunRecord> r = journal.Load(run->id);
    EXPECT_EQ(ExitCodeFor(r.status()), 2);
    return r.status().message();
  };
  EXPECT_EQ(edited([](nlohmann::json& j) { j["pid"] = "12"; }), where + ": key 'pid' is missing or not a number");
  EXPECT_EQ(edited([](nlohmann::json& j) { j.erase("vars"); }), where + ": key 'vars' is missing or not an object");
  EXPECT_EQ(edited([](nlohmann::json& j) { j["state"] = "interrupted"; }),
            where + ": key 'state' is missing or not a run state (running, succeeded, failed, reverted)");
  EXPECT_EQ(edited([](nlohmann::json& j) { j["steps"][1]["state"] = "skipped"; }),
            where + ", step 2: key 'state' is missing or not a step state (pending, running, done, failed)");
  EXPECT_EQ(edited([](nlohmann::json& j) { j["steps"][2]["seconds"] = nullptr; }),
            where + ", step 3: key 'seconds' is missing or not a number");
  EXPECT_EQ(edited([](nlohmann::json& j) { j = nlohmann::json::array(); }), where + ": not a JSON object");

  std::ofstream(path, std::ios::trunc) << good;
  Result<RunRecord> back = journal.Load(run->id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(RunToJson(*back), RunToJson(*run));
}

TEST_F(EngineTest, ASecondRunWhileOneHoldsTheLockIsRefused) {
  Result<RunLock> first = RunLock::Take(dir_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<RunLock> second = RunLock::Take(dir_);
  EXPECT_EQ(second.status().code(), Code::kBusy);
  EXPECT_EQ(second.status().message(), "another run is in progress in this state directory");
  EXPECT_EQ(second.status().hint(), "wait for it to finish; 'lifeboat runs' shows its steps");
  { RunLock released = std::move(*first); }
  EXPECT_TRUE(RunLock::Take(dir_).ok());
}

TEST_F(EngineTest, TwoRunsBegunInOneSecondGetDistinctIds) {
  Journal journal(dir_, nullptr);
  Engine engine(&journal, Collect());
  Plan plan = Abc();
  Result<RunRecord> one = engine.Begin(plan, nlohmann::json::object());
  Result<RunRecord> two = engine.Begin(plan, nlohmann::json::object());
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_NE(one->id, two->id);
  EXPECT_EQ(one->id.rfind("test-", 0), 0u);
  Result<std::vector<RunRecord>> all = journal.List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

}  // namespace
}  // namespace lifeboat::runbook
