// Scenarios and runs of the digital twin's API, per tenant, and the worker pool that executes
// queued runs (docs/twin.md, "API"; docs/architecture.md, "The digital twin").
//
// Everything is kept as files under one directory, written atomically (temporary file, fsync,
// rename), so definitions, run states and results survive a restart:
//   <dir>/<tenant>/scenarios/<id>/scenario.json, dem.tif, buildings.geojson, landuse.geojson,
//                                 manning.tif, infiltration.tif
//   <dir>/<tenant>/runs/<id>/run.json, inputs/ (the scenario's files when the run started),
//                            results/ (flood_run.h)
// (<tenant> is the tenant name, "@default" for the default tenant.) A running run writes a
// checkpoint (runs/<id>/checkpoint.bin, twin/checkpoint.h) every `checkpointMinutes` of
// simulated time and when the server stops; a run that was running when the process stopped
// (or was killed) continues from its checkpoint on the next start, ahead of the queued runs, and
// ends with the same results as an uninterrupted run. Without a checkpoint it is marked failed.
// Queued runs are queued again.
//
// Runs execute on `workers` threads (default 1) at a lower CPU priority (nice), each with
// `solverThreads` OpenMP threads (default: all cores but one), so a run never takes the CPU the
// API needs. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "twin/flood_run.h"
#include "twin/scenario_spec.h"

namespace allmende::twin {

struct ScenarioRecord {
  std::string tenant, id;
  std::string definition;           // the JSON object as given (validated by parseScenarioSpec)
  std::vector<std::string> inputs;  // the input files present: "dem", "buildings", "landuse", "manning", "infiltration"
  std::string createdBy;
  Micros created = 0, modified = 0;
};

enum class RunState { kCreated, kQueued, kRunning, kSucceeded, kFailed, kCancelled };
const char* runStateName(RunState s);

struct RunProgress {
  double simulatedSeconds = 0, endSeconds = 0;
  long steps = 0;
  double wallSeconds = 0;  // since the run started
  double massError = 0;
};

struct RunRecord {
  std::string tenant, id, scenario;
  std::string definition;  // the scenario's definition when the run was created
  RunState state = RunState::kCreated;
  bool cancelRequested = false;
  std::string createdBy;
  Micros created = 0, started = 0, ended = 0;
  RunProgress progress;
  std::string error;              // why it failed
  std::string outcome;            // outcome.json text once it succeeded
  std::string publishError;       // "" when the results were written to the tenant as entities
  double checkpointSeconds = -1;  // simulated s of the newest checkpoint of this execution, -1: none
  double resumedFrom = -1;        // simulated s the run continued from after a restart, -1: never
};

struct RunQueueOptions {
  std::string dir;                // created if missing
  int workers = 1;                // runs at a time
  int solverThreads = 0;          // OpenMP threads per run; 0 = all cores but one (at least 1)
  int niceness = 10;              // added to the workers' CPU priority (Linux: per thread)
  double checkpointMinutes = 10;  // simulated minutes between checkpoints of a run; 0: only at shutdown
};

// The tenant's building footprints for a scenario whose buildings come from its NGSI-LD Building
// entities ("buildings": {"source": "entities"}): a GeoJSON FeatureCollection (api/twin_entities.cc).
using BuildingSource = std::function<Result<std::string>(const std::string& tenant)>;

// Writes a finished run's results to the tenant (api/twin_entities.cc); runs on the worker.
using RunPublisher = std::function<Status(const RunRecord&, const ScenarioSpec&, const RunOutcome&)>;

class RunQueue {
 public:
  // Loads the stored scenarios and runs; fails interrupted runs and queues the queued ones again.
  static Result<std::unique_ptr<RunQueue>> open(RunQueueOptions options, const Clock& clock);
  ~RunQueue();  // stop()

  void setPublisher(RunPublisher publisher);      // before start()
  void setBuildingSource(BuildingSource source);  // before start()
  void start();                                   // starts the workers
  void stop();                                    // cancels the running runs (they fail: interrupted) and joins
  int solverThreads() const { return solverThreads_; }

  // Scenarios. `definition` must be a JSON object text that parseScenarioSpec accepts.
  // create: AlreadyExists when the id is taken; replace (create = false): ResourceNotFound when not.
  Result<ScenarioRecord> putScenario(const std::string& tenant, const std::string& id, const std::string& definition,
                                     const std::string& by, bool create);
  Result<ScenarioRecord> scenario(const std::string& tenant, const std::string& id);
  std::vector<ScenarioRecord> scenarios(const std::string& tenant);
  // Conflict while one of its runs is queued or running.
  Status deleteScenario(const std::string& tenant, const std::string& id);
  // Input `name` ("dem": a raster GDAL reads, "buildings"/"landuse": GeoJSON, checked against the
  // DEM, which must come first). BadRequestData when the content does not fit.
  Status putInput(const std::string& tenant, const std::string& id, const std::string& name, const std::string& bytes);
  // The file of an input, ResourceNotFound when it was not uploaded.
  Result<std::string> inputFile(const std::string& tenant, const std::string& id, const std::string& name);

  // Removes every scenario and run of the tenant with their files (the tenant is deleted);
  // Conflict while one of its runs is running (cancel it first). Queued runs are dropped.
  Status removeTenant(const std::string& tenant);

  // Runs. createRun: the scenario needs a DEM; queued unless `start` is false.
  Result<RunRecord> createRun(const std::string& tenant, const std::string& scenario, const std::string& by,
                              bool start);
  // Queues a created run (Conflict in any other state).
  Result<RunRecord> startRun(const std::string& tenant, const std::string& id);
  // A created or queued run is cancelled at once; a running one stops at its next step
  // (cancelRequested until then). Conflict when it has ended.
  Result<RunRecord> cancelRun(const std::string& tenant, const std::string& id);
  Result<RunRecord> run(const std::string& tenant, const std::string& id);
  // Newest first; only of `scenario` when given.
  std::vector<RunRecord> runs(const std::string& tenant, const std::optional<std::string>& scenario);
  // The newest run of the tenant in `state` among `scenarios`, copying that one record only (for
  // readers on every request, e.g. the citizen app's configuration, api/web_hazard.cc).
  std::optional<RunRecord> newestRun(const std::string& tenant, const std::set<std::string>& scenarios, RunState state);
  // The file of a succeeded run's result (flood_run.h names); ResourceNotFound otherwise.
  Result<std::string> resultFile(const std::string& tenant, const std::string& id, const std::string& file);

  // The tenant archive (api/tenant_archive.h). Every file of the tenant's scenarios and runs, by
  // path below its directory ("scenarios/<id>/scenario.json", "runs/<id>/results/max_depth.tif"),
  // sorted by path; a run that is running is taken as it stands.
  using TenantFiles = std::vector<std::pair<std::string, std::string>>;  // path, bytes
  Result<TenantFiles> tenantFiles(const std::string& tenant);
  // Whether `path` may name such a file: scenarios/<id>/... or runs/<id>/..., at most four
  // levels of letters, digits, '.', '-' and '_' (no "." or "..").
  static bool isTenantFilePath(std::string_view path);
  // BadRequestData unless every path is such a path and every scenario or run directory has its
  // record (scenario.json / run.json), a JSON object with that directory's id.
  static Status checkTenantFiles(const TenantFiles& files);
  // Writes such files into a tenant that has no scenarios or runs, then loads them as a start
  // would (a run that was running counts as interrupted, a queued one is queued again).
  // BadRequestData for a path outside the layout; Conflict when the tenant has scenarios or runs.
  Status restoreTenantFiles(const std::string& tenant, const TenantFiles& files);

 private:
  RunQueue(RunQueueOptions options, const Clock& clock);
  using Key = std::pair<std::string, std::string>;       // tenant, id
  Status load(const std::string* onlyTenant = nullptr);  // every tenant, or only this one
  void work();
  void execute(const Key& key);
  void finish(const Key& key, RunState state, std::string error, std::string outcome, std::string publishError);
  void suspend(const Key& key);  // stopped with a checkpoint: queued again on the next start
  Status saveScenario(const ScenarioRecord& s);
  Status saveRun(const RunRecord& r);  // with mu_ held
  std::string tenantDir(const std::string& tenant) const;
  std::string scenarioDir(const std::string& tenant, const std::string& id) const;
  std::string runDir(const std::string& tenant, const std::string& id) const;

  RunQueueOptions options_;
  const Clock& clock_;
  int solverThreads_ = 1;
  RunPublisher publisher_;
  BuildingSource buildingSource_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<Key, ScenarioRecord> scenarios_;  // GUARDED_BY(mu_)
  std::map<Key, RunRecord> runs_;            // GUARDED_BY(mu_)
  std::deque<Key> queue_;                    // GUARDED_BY(mu_)
  struct RunFlags {
    std::atomic<bool> cancel{false}, suspend{false};
  };
  std::map<Key, std::shared_ptr<RunFlags>> flags_;  // GUARDED_BY(mu_), running runs
  bool stopping_ = false;                           // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;
};

// Whether the input `name` is a raster (dem, manning, infiltration) rather than GeoJSON.
bool isRasterInput(const std::string& name);

// Whether `id` may name a scenario or run: 1-64 letters, digits, '-' or '_'.
bool isValidTwinId(const std::string& id);

}  // namespace allmende::twin
