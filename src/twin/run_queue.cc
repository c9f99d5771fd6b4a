#include "twin/run_queue.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "common/json.h"
#include "twin/features.h"
#include "twin/param_raster.h"
#include "twin/raster_io.h"

namespace allmende::twin {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCheckpointFile = "checkpoint.bin";
constexpr const char* kStateNames[] = {"created", "queued", "running", "succeeded", "failed", "cancelled"};
constexpr const char* kInputs[][2] = {{"dem", "dem.tif"},
                                      {"buildings", "buildings.geojson"},
                                      {"landuse", "landuse.geojson"},
                                      {"manning", "manning.tif"},
                                      {"infiltration", "infiltration.tif"}};
// What a succeeded run serves (flood_run.h).
constexpr const char* kResultFiles[] = {"max_depth.tif",        "max_velocity.tif",  "time_to_10cm.tif",
                                        "hazard_depth.tif",     "hazard_rating.tif", "hazard_depth.png",
                                        "hazard_depth.geojson", "buildings.geojson", "gauges.csv",
                                        "summary.json",         "outcome.json"};

const char* inputFileName(const std::string& name) {
  for (const auto& in : kInputs) {
    if (name == in[0]) return in[1];
  }
  return nullptr;
}

std::optional<RunState> stateOf(std::string_view name) {
  for (int k = 0; k < 6; ++k) {
    if (name == kStateNames[k]) return RunState(k);
  }
  return std::nullopt;
}

// Temporary file, fsync, rename: a reader (or the next start) sees the old or the new content.
Status writeAtomically(const fs::path& path, const std::string& bytes) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return internalError("cannot write " + tmp.string());
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      return internalError("cannot write " + tmp.string());
    }
    done += size_t(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (synced) fs::rename(tmp, path, ec);
  if (!synced || ec) return internalError("cannot store " + path.string());
  return Status::ok();
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string randomId(const char* prefix) {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%012llx", prefix, static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  return buf;
}

std::string stringOf(const Json& doc, const char* name) {
  const Json* v = findMember(doc, name);
  return v && v->IsString() ? std::string(asView(*v)) : std::string();
}
int64_t intOf(const Json& doc, const char* name) {
  const Json* v = findMember(doc, name);
  return v && v->IsInt64() ? v->GetInt64() : 0;
}
double doubleOf(const Json& doc, const char* name) {
  const Json* v = findMember(doc, name);
  return v && v->IsNumber() ? v->GetDouble() : 0;
}

void writeString(JsonWriter& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

// Raw JSON text (already validated) as a member.
void writeRaw(JsonWriter& w, const char* key, const std::string& json) {
  w.Key(key);
  w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
}

std::string scenarioFileJson(const ScenarioRecord& s) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  writeString(w, "id", s.id);
  writeString(w, "createdBy", s.createdBy);
  w.Key("created");
  w.Int64(s.created);
  w.Key("modified");
  w.Int64(s.modified);
  writeRaw(w, "definition", s.definition);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string runFileJson(const RunRecord& r) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  writeString(w, "id", r.id);
  writeString(w, "scenario", r.scenario);
  writeString(w, "state", runStateName(r.state));
  writeString(w, "createdBy", r.createdBy);
  w.Key("created");
  w.Int64(r.created);
  w.Key("started");
  w.Int64(r.started);
  w.Key("ended");
  w.Int64(r.ended);
  w.Key("simulatedSeconds");
  w.Double(r.progress.simulatedSeconds);
  w.Key("endSeconds");
  w.Double(r.progress.endSeconds);
  w.Key("steps");
  w.Int64(r.progress.steps);
  w.Key("wallSeconds");
  w.Double(r.progress.wallSeconds);
  w.Key("massError");
  w.Double(r.progress.massError);
  writeString(w, "error", r.error);
  writeString(w, "publishError", r.publishError);
  w.Key("resumedFrom");
  w.Double(r.resumedFrom);
  writeRaw(w, "definition", r.definition);
  if (!r.outcome.empty()) writeRaw(w, "outcome", r.outcome);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// Lowers the calling thread's CPU priority (Linux schedules threads, so nice is per thread;
// the OpenMP threads this thread starts inherit it).
void lowerPriority(int niceness) {
  if (niceness <= 0) return;
  pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
  int current = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), std::min(19, current + niceness));
}

// Hard links (the inputs are replaced by rename, never rewritten), or a copy.
Status snapshotInputs(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return internalError("cannot create " + to.string());
  for (const auto& in : kInputs) {
    fs::path src = from / in[1];
    if (!fs::exists(src, ec)) continue;
    fs::create_hard_link(src, to / in[1], ec);
    if (ec) fs::copy_file(src, to / in[1], fs::copy_options::overwrite_existing, ec);
    if (ec) return internalError("cannot copy " + src.string() + ": " + ec.message());
  }
  return Status::ok();
}

}  // namespace

const char* runStateName(RunState s) { return kStateNames[int(s)]; }

bool isRasterInput(const std::string& name) { return name == "dem" || name == "manning" || name == "infiltration"; }

bool isValidTwinId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

RunQueue::RunQueue(RunQueueOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {
  int cores = int(std::thread::hardware_concurrency());
  solverThreads_ = options_.solverThreads > 0 ? options_.solverThreads : std::max(1, cores - 1);
}

RunQueue::~RunQueue() { stop(); }

Result<std::unique_ptr<RunQueue>> RunQueue::open(RunQueueOptions options, const Clock& clock) {
  std::unique_ptr<RunQueue> q(new RunQueue(std::move(options), clock));
  ALLMENDE_RETURN_IF_ERROR(q->load());
  return q;
}

std::string RunQueue::tenantDir(const std::string& tenant) const {
  // Tenant names are letters, digits and - _ . : (api/call.h); "." and ".." would leave the
  // directory, so names of dots only get a '@', which no tenant name contains.
  std::string name = tenant.empty() ? "@default" : tenant;
  if (name.find_first_not_of('.') == std::string::npos) name = "@" + name;
  return (fs::path(options_.dir) / name).string();
}
std::string RunQueue::scenarioDir(const std::string& tenant, const std::string& id) const {
  return (fs::path(tenantDir(tenant)) / "scenarios" / id).string();
}
std::string RunQueue::runDir(const std::string& tenant, const std::string& id) const {
  return (fs::path(tenantDir(tenant)) / "runs" / id).string();
}

Status RunQueue::load(const std::string* onlyTenant) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) return internalError("cannot create " + options_.dir + ": " + ec.message());
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : fs::directory_iterator(options_.dir, ec)) {
    if (!t.is_directory()) continue;
    std::string tenant = t.path().filename().string();
    if (tenant == "@default")
      tenant.clear();
    else if (tenant[0] == '@')
      tenant = tenant.substr(1);
    if (onlyTenant && tenant != *onlyTenant) continue;
    for (const auto& s : fs::directory_iterator(t.path() / "scenarios", ec)) {
      JsonDocument doc;
      if (!parseJson(readFile(s.path() / "scenario.json"), doc).isOk() || !doc.IsObject()) continue;
      ScenarioRecord r{tenant,
                       stringOf(doc, "id"),
                       "",
                       {},
                       stringOf(doc, "createdBy"),
                       intOf(doc, "created"),
                       intOf(doc, "modified")};
      if (const Json* d = findMember(doc, "definition")) r.definition = toJsonString(*d);
      for (const auto& in : kInputs) {
        if (fs::exists(s.path() / in[1])) r.inputs.push_back(in[0]);
      }
      scenarios_[{tenant, r.id}] = std::move(r);
    }
    for (const auto& d : fs::directory_iterator(t.path() / "runs", ec)) {
      JsonDocument doc;
      if (!parseJson(readFile(d.path() / "run.json"), doc).isOk() || !doc.IsObject()) continue;
      RunRecord r;
      r.tenant = tenant;
      r.id = stringOf(doc, "id");
      r.scenario = stringOf(doc, "scenario");
      r.state = stateOf(stringOf(doc, "state")).value_or(RunState::kFailed);
      r.createdBy = stringOf(doc, "createdBy");
      r.created = intOf(doc, "created");
      r.started = intOf(doc, "started");
      r.ended = intOf(doc, "ended");
      r.progress = RunProgress{doubleOf(doc, "simulatedSeconds"), doubleOf(doc, "endSeconds"),
                               long(intOf(doc, "steps")), doubleOf(doc, "wallSeconds"), doubleOf(doc, "massError")};
      r.error = stringOf(doc, "error");
      r.publishError = stringOf(doc, "publishError");
      if (const Json* v = findMember(doc, "resumedFrom")) r.resumedFrom = v->IsNumber() ? v->GetDouble() : -1;
      if (const Json* v = findMember(doc, "definition")) r.definition = toJsonString(*v);
      if (const Json* v = findMember(doc, "outcome")) r.outcome = toJsonString(*v);
      Key key{tenant, r.id};
      if (r.state == RunState::kRunning) {
        // Interrupted (killed, a crash): it continues from its checkpoint, else it has to start again.
        if (fs::exists(d.path() / kCheckpointFile, ec)) {
          r.state = RunState::kQueued;
        } else {
          r.state = RunState::kFailed;
          r.error = "interrupted by a restart of the server before its first checkpoint; start a new run";
          r.ended = clock_.now();
        }
        ALLMENDE_RETURN_IF_ERROR(saveRun(r));
      }
      runs_[key] = std::move(r);
    }
  }
  // Queued runs: the interrupted ones (they had started) first, then oldest first.
  std::vector<const RunRecord*> queued;
  for (const auto& [k, r] : runs_) {
    if (r.state == RunState::kQueued && (!onlyTenant || k.first == *onlyTenant)) queued.push_back(&r);
  }
  std::sort(queued.begin(), queued.end(), [](const RunRecord* a, const RunRecord* b) {
    return std::pair(a->started == 0, a->created) < std::pair(b->started == 0, b->created);
  });
  for (const RunRecord* r : queued) queue_.emplace_back(r->tenant, r->id);
  return Status::ok();
}

void RunQueue::setPublisher(RunPublisher publisher) { publisher_ = std::move(publisher); }
void RunQueue::setBuildingSource(BuildingSource source) { buildingSource_ = std::move(source); }

void RunQueue::start() {
  for (int k = 0; k < std::max(1, options_.workers); ++k) workers_.emplace_back([this] { work(); });
}

void RunQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    // Running runs stop at their next step with a checkpoint and continue after the next start.
    for (auto& [k, f] : flags_) {
      f->suspend.store(true);
      f->cancel.store(true);
    }
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

Status RunQueue::saveScenario(const ScenarioRecord& s) {
  fs::path dir = scenarioDir(s.tenant, s.id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return internalError("cannot create " + dir.string());
  return writeAtomically(dir / "scenario.json", scenarioFileJson(s));
}

Status RunQueue::saveRun(const RunRecord& r) {
  fs::path dir = runDir(r.tenant, r.id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return internalError("cannot create " + dir.string());
  return writeAtomically(dir / "run.json", runFileJson(r));
}

Result<ScenarioRecord> RunQueue::putScenario(const std::string& tenant, const std::string& id,
                                             const std::string& definition, const std::string& by, bool create) {
  if (!isValidTwinId(id)) return badRequestData("a scenario id is 1-64 letters, digits, '-' or '_'");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scenarios_.find({tenant, id});
  if (create && it != scenarios_.end()) return alreadyExists("scenario '" + id + "' exists");
  if (!create && it == scenarios_.end()) return notFound("no scenario '" + id + "'");
  Micros now = clock_.now();
  ScenarioRecord r = create ? ScenarioRecord{tenant, id, definition, {}, by, now, now} : it->second;
  r.definition = definition;
  r.modified = now;
  ALLMENDE_RETURN_IF_ERROR(saveScenario(r));
  scenarios_[{tenant, id}] = r;
  return r;
}

Result<ScenarioRecord> RunQueue::scenario(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scenarios_.find({tenant, id});
  if (it == scenarios_.end()) return notFound("no scenario '" + id.substr(0, 64) + "'");
  return it->second;
}

std::vector<ScenarioRecord> RunQueue::scenarios(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ScenarioRecord> out;
  for (auto it = scenarios_.lower_bound({tenant, ""}); it != scenarios_.end() && it->first.first == tenant; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status RunQueue::deleteScenario(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scenarios_.find({tenant, id});
  if (it == scenarios_.end()) return notFound("no scenario '" + id.substr(0, 64) + "'");
  for (const auto& [k, r] : runs_) {
    if (k.first == tenant && r.scenario == id && (r.state == RunState::kQueued || r.state == RunState::kRunning)) {
      return Status(ErrorType::kConflict, "scenario '" + id + "' has a queued or running run (" + r.id + ")");
    }
  }
  std::error_code ec;
  fs::remove_all(scenarioDir(tenant, id), ec);
  if (ec) return internalError("cannot delete scenario '" + id + "': " + ec.message());
  scenarios_.erase(it);
  return Status::ok();
}

Status RunQueue::putInput(const std::string& tenant, const std::string& id, const std::string& name,
                          const std::string& bytes) {
  const char* file = inputFileName(name);
  if (!file) return notFound("no input '" + name.substr(0, 40) + "' (dem, buildings, landuse, manning, infiltration)");
  fs::path dir = scenarioDir(tenant, id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!scenarios_.count({tenant, id})) return notFound("no scenario '" + id.substr(0, 64) + "'");
  }
  // Checked before it replaces the stored one: a raster GDAL reads, features that fit the DEM.
  fs::path staged = dir / (std::string(file) + ".upload");
  ALLMENDE_RETURN_IF_ERROR(writeAtomically(staged, bytes));
  Status check = Status::ok();
  if (name == "dem") {
    auto r = readRaster(staged.string());
    check = r ? Status::ok() : r.status();
  } else if (isRasterInput(name)) {
    auto r = readRaster(staged.string());
    check = r ? checkParamRaster(*r, name == "manning" ? kManningRaster : kInfiltrationRaster) : r.status();
  } else {
    auto dem = readRaster((dir / "dem.tif").string());
    if (!dem)
      check = Status(ErrorType::kConflict, "upload the DEM (inputs/dem) before " + name);
    else if (auto f = parseFeatures(bytes, *dem, false); !f)
      check = f.status();
  }
  std::error_code ec;
  if (!check.isOk()) {
    fs::remove(staged, ec);
    return check;
  }
  fs::rename(staged, dir / file, ec);
  if (ec) return internalError("cannot store input '" + name + "': " + ec.message());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scenarios_.find({tenant, id});
  if (it == scenarios_.end()) return notFound("no scenario '" + id.substr(0, 64) + "'");
  auto& inputs = it->second.inputs;
  if (std::find(inputs.begin(), inputs.end(), name) == inputs.end()) inputs.push_back(name);
  it->second.modified = clock_.now();
  return saveScenario(it->second);
}

Result<std::string> RunQueue::inputFile(const std::string& tenant, const std::string& id, const std::string& name) {
  const char* file = inputFileName(name);
  if (!file) return notFound("no input '" + name.substr(0, 40) + "' (dem, buildings, landuse, manning, infiltration)");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scenarios_.find({tenant, id});
  if (it == scenarios_.end()) return notFound("no scenario '" + id.substr(0, 64) + "'");
  const auto& in = it->second.inputs;
  if (std::find(in.begin(), in.end(), name) == in.end()) return notFound("scenario '" + id + "' has no " + name);
  return (fs::path(scenarioDir(tenant, id)) / file).string();
}

Status RunQueue::removeTenant(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, r] : runs_) {
    if (k.first == tenant && r.state == RunState::kRunning) {
      return Status(ErrorType::kConflict, "run '" + r.id + "' of the tenant is running; cancel it first");
    }
  }
  std::erase_if(runs_, [&](const auto& e) { return e.first.first == tenant; });
  std::erase_if(scenarios_, [&](const auto& e) { return e.first.first == tenant; });
  std::erase_if(queue_, [&](const Key& k) { return k.first == tenant; });
  std::error_code ec;
  fs::remove_all(tenantDir(tenant), ec);
  if (ec) return internalError("cannot delete the tenant's flood scenarios: " + ec.message());
  return Status::ok();
}

Result<RunRecord> RunQueue::createRun(const std::string& tenant, const std::string& scenario, const std::string& by,
                                      bool start) {
  std::string definition;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto s = scenarios_.find({tenant, scenario});
    if (s == scenarios_.end()) return notFound("no scenario '" + scenario.substr(0, 64) + "'");
    const auto& in = s->second.inputs;
    if (std::find(in.begin(), in.end(), "dem") == in.end()) {
      return Status(ErrorType::kConflict, "scenario '" + scenario + "' has no DEM yet (PUT .../inputs/dem)");
    }
    definition = s->second.definition;
  }
  // Footprints from the tenant's Building entities are taken now (outside the lock: a store
  // query), as they are when the run is created, like the uploaded inputs.
  std::optional<std::string> entityBuildings;
  JsonDocument doc;
  if (parseJson(definition, doc).isOk()) {
    auto spec = parseScenarioSpec(doc);
    if (spec && spec->buildingsFromEntities) {
      if (!buildingSource_) return Status(ErrorType::kConflict, "this server cannot read Building entities");
      auto fc = buildingSource_(tenant);
      if (!fc) return fc.status();
      entityBuildings = std::move(*fc);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!scenarios_.count({tenant, scenario})) return notFound("no scenario '" + scenario.substr(0, 64) + "'");
  RunRecord r;
  r.tenant = tenant;
  r.id = randomId("r-");
  r.scenario = scenario;
  r.definition = definition;
  r.createdBy = by;
  r.created = clock_.now();
  r.state = start ? RunState::kQueued : RunState::kCreated;
  fs::path inputs = fs::path(runDir(tenant, r.id)) / "inputs";
  ALLMENDE_RETURN_IF_ERROR(snapshotInputs(scenarioDir(tenant, scenario), inputs));
  // Replaces the link to an uploaded file (rename), never the scenario's file itself.
  if (entityBuildings) ALLMENDE_RETURN_IF_ERROR(writeAtomically(inputs / "buildings.geojson", *entityBuildings));
  ALLMENDE_RETURN_IF_ERROR(saveRun(r));
  runs_[{tenant, r.id}] = r;
  if (start) queue_.emplace_back(tenant, r.id);
  wake_.notify_one();
  return r;
}

Result<RunRecord> RunQueue::startRun(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find({tenant, id});
  if (it == runs_.end()) return notFound("no run '" + id.substr(0, 64) + "'");
  if (it->second.state != RunState::kCreated) {
    return Status(ErrorType::kConflict, "run '" + id + "' is " + runStateName(it->second.state) + ", not created");
  }
  RunRecord next = it->second;
  next.state = RunState::kQueued;
  ALLMENDE_RETURN_IF_ERROR(saveRun(next));
  it->second = next;
  queue_.emplace_back(tenant, id);
  wake_.notify_one();
  return next;
}

Result<RunRecord> RunQueue::cancelRun(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find({tenant, id});
  if (it == runs_.end()) return notFound("no run '" + id.substr(0, 64) + "'");
  RunRecord& r = it->second;
  switch (r.state) {
    case RunState::kCreated:
    case RunState::kQueued: {
      RunRecord next = r;
      next.state = RunState::kCancelled;
      next.ended = clock_.now();
      ALLMENDE_RETURN_IF_ERROR(saveRun(next));
      r = next;  // the worker skips it when it comes out of the queue
      return r;
    }
    case RunState::kRunning:
      r.cancelRequested = true;
      if (auto f = flags_.find({tenant, id}); f != flags_.end()) f->second->cancel.store(true);
      return r;
    default:
      return Status(ErrorType::kConflict, "run '" + id + "' has ended (" + runStateName(r.state) + ")");
  }
}

Result<RunRecord> RunQueue::run(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find({tenant, id});
  if (it == runs_.end()) return notFound("no run '" + id.substr(0, 64) + "'");
  return it->second;
}

std::vector<RunRecord> RunQueue::runs(const std::string& tenant, const std::optional<std::string>& scenario) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunRecord> out;
  for (auto it = runs_.lower_bound({tenant, ""}); it != runs_.end() && it->first.first == tenant; ++it) {
    if (!scenario || it->second.scenario == *scenario) out.push_back(it->second);
  }
  std::sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) { return a.created > b.created; });
  return out;
}

std::optional<RunRecord> RunQueue::newestRun(const std::string& tenant, const std::set<std::string>& scenarios,
                                             RunState state) {
  std::lock_guard<std::mutex> lock(mu_);
  const RunRecord* newest = nullptr;
  for (auto it = runs_.lower_bound({tenant, ""}); it != runs_.end() && it->first.first == tenant; ++it) {
    const RunRecord& r = it->second;
    if (r.state == state && scenarios.count(r.scenario) && (!newest || r.created > newest->created)) newest = &r;
  }
  return newest ? std::optional<RunRecord>(*newest) : std::nullopt;
}

Result<std::string> RunQueue::resultFile(const std::string& tenant, const std::string& id, const std::string& file) {
  if (std::find_if(std::begin(kResultFiles), std::end(kResultFiles), [&](const char* f) { return file == f; }) ==
      std::end(kResultFiles)) {
    return notFound("no result '" + file.substr(0, 64) + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find({tenant, id});
  if (it == runs_.end()) return notFound("no run '" + id.substr(0, 64) + "'");
  if (it->second.state != RunState::kSucceeded) {
    return Status(ErrorType::kConflict, "run '" + id + "' is " + runStateName(it->second.state) + ": no results");
  }
  fs::path p = fs::path(runDir(tenant, id)) / "results" / file;
  std::error_code ec;
  if (!fs::exists(p, ec)) return notFound("run '" + id + "' has no " + file + " (overlays need a DEM with a CRS)");
  return p.string();
}

void RunQueue::work() {
  lowerPriority(options_.niceness);
  for (;;) {
    Key key;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      key = queue_.front();
      queue_.pop_front();
      auto it = runs_.find(key);
      if (it == runs_.end() || it->second.state != RunState::kQueued) continue;  // cancelled meanwhile
      RunRecord next = it->second;
      next.state = RunState::kRunning;
      next.started = clock_.now();
      if (!saveRun(next).isOk()) continue;  // stays queued on disk: retried after a restart
      it->second = next;
      flags_[key] = std::make_shared<RunFlags>();
    }
    execute(key);
  }
}

void RunQueue::execute(const Key& key) {
  std::shared_ptr<RunFlags> flags;
  std::string definition;
  {
    std::lock_guard<std::mutex> lock(mu_);
    flags = flags_[key];
    definition = runs_[key].definition;
  }
  JsonDocument doc;
  Status st = parseJson(definition, doc);
  auto spec = st.isOk() ? parseScenarioSpec(doc) : Result<ScenarioSpec>(st);
  if (!spec) return finish(key, RunState::kFailed, spec.status().detail(), "", "");
  auto wallStart = std::chrono::steady_clock::now();
  FloodRunOptions fo;
  fo.solverThreads = solverThreads_;
  fo.cancel = &flags->cancel;
  fo.suspend = &flags->suspend;
  fs::path dir = runDir(key.first, key.second);
  fo.checkpointPath = (dir / kCheckpointFile).string();
  fo.checkpointSeconds = options_.checkpointMinutes * 60;
  fo.checkpointed = [this, &key](double simulated) {
    std::lock_guard<std::mutex> lock(mu_);
    runs_[key].checkpointSeconds = simulated;
  };
  fo.progress = [this, &key, wallStart](const Progress& p) {
    std::lock_guard<std::mutex> lock(mu_);
    RunProgress& rp = runs_[key].progress;
    rp.simulatedSeconds = p.time;
    rp.endSeconds = p.endTime;
    rp.steps = p.steps;
    rp.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    rp.massError = p.balance.relativeError();
  };
  auto outcome = runFlood(*spec, (dir / "inputs").string(), (dir / "results").string(), fo);
  if (!outcome) return finish(key, RunState::kFailed, outcome.status().detail(), "", "");
  if (outcome->resumedFrom >= 0) {
    std::lock_guard<std::mutex> lock(mu_);
    runs_[key].resumedFrom = outcome->resumedFrom;
  }
  if (outcome->suspended) return suspend(key);
  if (!outcome->completed) {
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stopping_ && !runs_[key].cancelRequested;
    }
    if (stopping)
      return finish(key, RunState::kFailed, "interrupted by a shutdown of the server; start a new run", "", "");
    return finish(key, RunState::kCancelled, "", "", "");
  }
  std::string publishError;
  if (publisher_) {
    RunRecord snapshot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      snapshot = runs_[key];
    }
    Status pub = publisher_(snapshot, *spec, *outcome);
    if (!pub.isOk()) publishError = pub.detail();
  }
  finish(key, RunState::kSucceeded, "", outcomeJson(*outcome), publishError);
}

void RunQueue::finish(const Key& key, RunState state, std::string error, std::string outcome,
                      std::string publishError) {
  std::lock_guard<std::mutex> lock(mu_);
  flags_.erase(key);
  std::error_code ec;
  fs::remove(fs::path(runDir(key.first, key.second)) / kCheckpointFile, ec);
  RunRecord& r = runs_[key];
  r.state = state;
  r.ended = clock_.now();
  r.error = std::move(error);
  r.outcome = std::move(outcome);
  r.publishError = std::move(publishError);
  r.cancelRequested = false;
  (void)saveRun(r);  // on failure the state on disk stays "running": failed at the next start
}

Result<RunQueue::TenantFiles> RunQueue::tenantFiles(const std::string& tenant) {
  TenantFiles files;
  const fs::path root = tenantDir(tenant);
  std::error_code ec;
  if (!fs::exists(root, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() == ".tmp") continue;  // writeAtomically's temporaries
    std::string path = it->path().lexically_relative(root).generic_string();
    if (!isTenantFilePath(path)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (!in) return internalError("cannot read " + it->path().string());
    files.emplace_back(std::move(path), bytes.str());
  }
  if (ec) return internalError("cannot list " + root.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

bool RunQueue::isTenantFilePath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (slash != std::string_view::npos && path.empty()) return false;  // a trailing '/'
  }
  if (parts.size() < 3 || parts.size() > 4 || (parts[0] != "scenarios" && parts[0] != "runs")) return false;
  if (!isValidTwinId(std::string(parts[1]))) return false;
  for (std::string_view p : parts) {
    if (p.empty() || p.size() > 128 || p == "." || p == "..") return false;
    if (!std::all_of(p.begin(), p.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
        }))
      return false;
  }
  return true;
}

Status RunQueue::checkTenantFiles(const TenantFiles& files) {
  // Every scenario and run directory has its record, a JSON object naming that directory's id.
  std::map<std::string, bool> recordOf;  // "scenarios/<id>" or "runs/<id>" -> has its record
  for (const auto& [path, bytes] : files) {
    if (!isTenantFilePath(path))
      return badRequestData("not a file of a flood scenario or run: '" + path.substr(0, 80) + "'");
    size_t second = path.find('/', path.find('/') + 1);
    std::string dir = path.substr(0, second), id = dir.substr(dir.find('/') + 1);
    bool& has = recordOf[dir];
    std::string_view file = std::string_view(path).substr(second + 1);
    if (file == (path[0] == 's' ? "scenario.json" : "run.json")) {
      JsonDocument doc;
      if (!parseJson(bytes, doc).isOk() || !doc.IsObject() || stringOf(doc, "id") != id) {
        return badRequestData(path + " is not the record of '" + id + "'");
      }
      has = true;
    }
  }
  for (const auto& [dir, has] : recordOf) {
    if (!has) return badRequestData(dir + " has no record (scenario.json or run.json)");
  }
  return Status::ok();
}

Status RunQueue::restoreTenantFiles(const std::string& tenant, const TenantFiles& files) {
  ALLMENDE_RETURN_IF_ERROR(checkTenantFiles(files));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto ofTenant = [&tenant](const auto& e) { return e.first.first == tenant; };
    if (std::any_of(scenarios_.begin(), scenarios_.end(), ofTenant) ||
        std::any_of(runs_.begin(), runs_.end(), ofTenant)) {
      return Status(ErrorType::kConflict, "the tenant has flood scenarios or runs already");
    }
  }
  const fs::path root = tenantDir(tenant);
  std::error_code ec;
  fs::remove_all(root, ec);  // leftovers without records (a directory written by hand)
  for (const auto& [path, bytes] : files) {
    fs::path p = root / path;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return internalError("cannot create " + p.parent_path().string());
    ALLMENDE_RETURN_IF_ERROR(writeAtomically(p, bytes));
  }
  ALLMENDE_RETURN_IF_ERROR(load(&tenant));
  wake_.notify_all();  // its queued runs
  return Status::ok();
}

void RunQueue::suspend(const Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  flags_.erase(key);
  RunRecord& r = runs_[key];
  r.state = r.cancelRequested ? RunState::kCancelled : RunState::kQueued;
  if (r.cancelRequested) {
    r.cancelRequested = false;
    r.ended = clock_.now();
    std::error_code ec;
    fs::remove(fs::path(runDir(key.first, key.second)) / kCheckpointFile, ec);
  }
  (void)saveRun(r);  // on failure it stays "running" on disk: resumed from the checkpoint all the same
}

}  // namespace allmende::twin
