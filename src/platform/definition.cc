#include "platform/definition.h"

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/time.h"
#include "config/portable.h"
#include "platform/frontend.h"

namespace lifeboat::platform {

namespace {
constexpr const char* kStream = "stack";
constexpr const char* kName = "definition";
}  // namespace

nlohmann::json StackDefinition::ToJson() const {
  return {{"format", kFormat},
          {"config", config},
          {"recorded_at", recorded_at},
          {"recorded_from", recorded_from},
          {"recovery_fingerprint", recovery_fingerprint},
          {"frontend", frontend}};
}

Result<StackDefinition> StackDefinition::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  int format = 0;
  LB_RETURN_IF_ERROR(f.Int("format", &format));
  if (format != kFormat) {
    return Status::Corruption(where + " has format " + std::to_string(format) + "; this lifeboat reads format " +
                                  std::to_string(kFormat),
                              "use the lifeboat version that recorded it");
  }
  StackDefinition d;
  LB_RETURN_IF_ERROR(f.String("config", &d.config));
  LB_RETURN_IF_ERROR(f.String("recorded_at", &d.recorded_at));
  LB_RETURN_IF_ERROR(f.String("recorded_from", &d.recorded_from));
  LB_RETURN_IF_ERROR(f.String("recovery_fingerprint", &d.recovery_fingerprint));
  LB_RETURN_IF_ERROR(f.String("frontend", &d.frontend));
  return d;
}

Result<StackDefinition> CaptureDefinition(const Config& cfg) {
  LB_ASSIGN_OR_RETURN(Bytes text, ReadFile(cfg.file));
  StackDefinition d;
  LB_ASSIGN_OR_RETURN(d.config, PortableConfigText(std::string(text.begin(), text.end()), Dirname(cfg.file), cfg.file));
  d.recorded_at = FormatIso8601(NowNanos());
  d.recorded_from = cfg.file;
  d.recovery_fingerprint = cfg.recovery_fingerprint;
  if (cfg.frontend.present) d.frontend = Frontend(cfg, "").Current();
  return d;
}

Status StoreDefinition(const StackDefinition& def, Repository& repo) {
  std::string text = def.ToJson().dump(2) + "\n";
  return repo.PutNamed(kStream, kName, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Result<StackDefinition> StoredDefinition(Repository& repo) {
  Result<Bytes> b = repo.GetNamed(kStream, kName);
  if (!b.ok()) {
    if (b.status().code() != Code::kNotFound) return b.status();
    return Status::NotFound("the repository holds no stack definition",
                            "on the machine that runs the stack, 'lifeboat stack record' stores it; every up, "
                            "deploy, drill and agent start does too");
  }
  auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  return StackDefinition::FromJson(j, "the repository's stack definition");
}

}  // namespace lifeboat::platform
