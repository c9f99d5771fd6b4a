#include "twin/solver.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace allmende::twin {

double MassBalance::relativeError() const {
  double residual = std::abs(stored - (initial + rain + inflow - outflow - losses));
  double scale = initial + rain + inflow;
  return scale > 0 ? residual / scale : residual;
}

namespace {

// Per-cell value from a vector that holds one value per cell, one value for all, or nothing.
double perCell(const std::vector<double>& v, size_t k, double fallback) {
  if (v.empty()) return fallback;
  return v.size() == 1 ? v[0] : v[k];
}

template <typename Real>
class LocalInertial final : public Solver {
 public:
  LocalInertial(Domain d, SolverOptions o) : d_(std::move(d)), o_(o) {
    nx_ = d_.dem.nx;
    ny_ = d_.dem.ny;
    dx_ = d_.dem.dx;
    size_t n = d_.dem.cells();
    z_.resize(n);
    h_.assign(n, 0);
    n2_.resize(n);
    infiltration_.resize(n);
    lossStore_.assign(n, Real(d_.initialLoss));
    active_.resize(n);
    factor_.assign(n, 1);
    for (size_t k = 0; k < n; ++k) {
      active_[k] = !d_.dem.isNoData(k) && (d_.blocked.empty() || !d_.blocked[k]);
      z_[k] = active_[k] ? Real(d_.dem.v[k]) : Real(0);
      double m = perCell(d_.manning, k, 0.035);
      n2_[k] = Real(m * m);
      infiltration_[k] = Real(perCell(d_.infiltration, k, 0));
      if (active_[k]) h_[k] = Real(perCell(d_.initialDepth, k, 0));
    }
    qx_.assign(size_t(nx_ + 1) * ny_, 0);
    qy_.assign(size_t(nx_) * (ny_ + 1), 0);
    qxNew_ = qx_;
    qyNew_ = qy_;
    peaks_.maxDepth.assign(n, 0);
    peaks_.maxSpeed.assign(n, 0);
    peaks_.timeTo10cm.assign(n, -1);
    rowStored_.assign(ny_, 0);
    rowLoss_.assign(ny_, 0);
    rowMax_.assign(ny_, 0);
    balance_.initial = storedVolume();
    activeCells_ = size_t(std::count(active_.begin(), active_.end(), uint8_t(1)));
    hMax_ = *std::max_element(h_.begin(), h_.end());
#ifdef _OPENMP
    threads_ = o_.threads > 0 ? o_.threads : omp_get_max_threads();
    parallel_ = threads_ > 1 && n >= 16384;
#endif
  }

  bool run(double endTime, const Hyetograph& rain, const std::function<void(const Progress&)>& progress,
           const std::atomic<bool>* cancel, long progressEvery) override {
    while (time_ < endTime - 1e-9) {
      if (cancel && cancel->load(std::memory_order_relaxed)) return false;
      step(rain, endTime - time_);
      if (progress && steps_ % progressEvery == 0) progress(currentProgress(endTime));
    }
    if (progress) progress(currentProgress(endTime));
    return true;
  }

  double step(const Hyetograph& rain, double limit) override {
    double dt = stepLength(limit);
    computeFluxes(Real(dt));
    limitOutflow(Real(dt));
    accountBoundaries(dt);
    updateDepths(rain, dt);
    time_ += dt;
    ++steps_;
    return dt;
  }

  double time() const override { return time_; }
  long steps() const override { return steps_; }
  double depth(int i, int j) const override { return h_[cell(i, j)]; }
  double fluxX(int i, int j) const override { return qx_[faceX(i, j)]; }
  double fluxY(int i, int j) const override { return qy_[faceY(i, j)]; }
  MassBalance balance() const override { return balance_; }
  const Peaks& peaks() const override { return peaks_; }

 private:
  size_t cell(int i, int j) const { return size_t(j) * nx_ + i; }
  size_t faceX(int i, int j) const { return size_t(j) * (nx_ + 1) + i; }  // west face of (i, j)
  size_t faceY(int i, int j) const { return size_t(j) * nx_ + i; }        // north face of (i, j)

  double storedVolume() const {
    double sum = 0;
    for (Real v : h_) sum += double(v);
    return sum * dx_ * dx_;
  }

  Progress currentProgress(double endTime) const {
    return Progress{time_, endTime, steps_, lastStep_, balance_};
  }

  double ghostDepth(const Boundary& b) const { return b.kind == Boundary::Kind::kDepth && b.depth ? b.depth(time_) : 0; }

  // Bates 2010 eq. 13: dt = alpha dx / sqrt(g h_max), over the grid and depth boundaries.
  double stepLength(double limit) {
    double hMax = hMax_;
    for (const Boundary* b : {&d_.west, &d_.east, &d_.north, &d_.south}) hMax = std::max(hMax, ghostDepth(*b));
    double dt = o_.maxStep;
    if (hMax > 1e-9) dt = std::min(dt, o_.alpha * dx_ / std::sqrt(o_.gravity * hMax));
    lastStep_ = std::min(dt, limit);
    return lastStep_;
  }

  // Flux from cell a to cell b (positive towards b) by Bates 2010 eq. 11 with the de Almeida 2012
  // theta-weighted q'. n2 is Manning's n squared at the face.
  Real faceFlux(Real q, Real qBar, Real za, Real ha, Real zb, Real hb, Real n2, Real dt) const {
    Real etaA = za + ha, etaB = zb + hb;
    Real hf = std::max(etaA, etaB) - std::max(za, zb);
    if (hf <= Real(o_.flowDepth)) return 0;
    const Real g = Real(o_.gravity);
    Real slope = (etaB - etaA) / Real(dx_);
    Real h73 = hf * hf * std::cbrt(hf);
    return (qBar - g * hf * dt * slope) / (Real(1) + g * dt * n2 * std::abs(q) / h73);
  }

  Real weighted(const std::vector<Real>& q, size_t k, size_t prev, size_t next, bool hasPrev, bool hasNext) const {
    Real t = Real(o_.theta);
    Real p = hasPrev ? q[prev] : q[k];
    Real nx = hasNext ? q[next] : q[k];
    return t * q[k] + (Real(1) - t) * Real(0.5) * (p + nx);
  }

  // Flux through an edge face; `outward` is +1 when positive q leaves the domain (east/south).
  Real edgeFlux(const Boundary& b, size_t inner, Real q, Real qBar, int outward, Real dt) const {
    if (!active_[inner]) return 0;
    const Real h = h_[inner];
    switch (b.kind) {
      case Boundary::Kind::kClosed:
        return 0;
      case Boundary::Kind::kFreeOutflow: {
        if (h <= Real(o_.flowDepth)) return 0;
        Real qOut = std::pow(h, Real(5.0 / 3.0)) * Real(std::sqrt(b.slope)) / std::sqrt(n2_[inner]);
        return Real(outward) * qOut;
      }
      case Boundary::Kind::kDepth: {
        Real hg = Real(ghostDepth(b));
        if (outward > 0) return faceFlux(q, qBar, z_[inner], h, z_[inner], hg, n2_[inner], dt);
        return faceFlux(q, qBar, z_[inner], hg, z_[inner], h, n2_[inner], dt);
      }
    }
    return 0;
  }

  void computeFluxes(Real dt) {
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_)
    for (int j = 0; j < ny_; ++j) {
      for (int i = 0; i <= nx_; ++i) {
        size_t f = faceX(i, j);
        Real qBar = weighted(qx_, f, f - 1, f + 1, i > 0, i < nx_);
        if (i == 0) {
          qxNew_[f] = edgeFlux(d_.west, cell(0, j), qx_[f], qBar, -1, dt);
        } else if (i == nx_) {
          qxNew_[f] = edgeFlux(d_.east, cell(nx_ - 1, j), qx_[f], qBar, +1, dt);
        } else {
          size_t a = cell(i - 1, j), b = cell(i, j);
          qxNew_[f] = active_[a] && active_[b]
                          ? faceFlux(qx_[f], qBar, z_[a], h_[a], z_[b], h_[b], Real(0.5) * (n2_[a] + n2_[b]), dt)
                          : Real(0);
        }
      }
    }
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_)
    for (int j = 0; j <= ny_; ++j) {
      for (int i = 0; i < nx_; ++i) {
        size_t f = faceY(i, j);
        Real qBar = weighted(qy_, f, f - nx_, f + nx_, j > 0, j < ny_);
        if (j == 0) {
          qyNew_[f] = edgeFlux(d_.north, cell(i, 0), qy_[f], qBar, -1, dt);
        } else if (j == ny_) {
          qyNew_[f] = edgeFlux(d_.south, cell(i, ny_ - 1), qy_[f], qBar, +1, dt);
        } else {
          size_t a = cell(i, j - 1), b = cell(i, j);
          qyNew_[f] = active_[a] && active_[b]
                          ? faceFlux(qy_[f], qBar, z_[a], h_[a], z_[b], h_[b], Real(0.5) * (n2_[a] + n2_[b]), dt)
                          : Real(0);
        }
      }
    }
    qx_.swap(qxNew_);
    qy_.swap(qyNew_);
  }

  // No cell may give away more water in one step than it holds: its outgoing fluxes are scaled
  // down together. Each face is scaled by the factor of the cell it drains.
  void limitOutflow(Real dt) {
    const Real k = dt / Real(dx_);
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_)
    for (int j = 0; j < ny_; ++j) {
      for (int i = 0; i < nx_; ++i) {
        size_t c = cell(i, j);
        Real out = std::max(Real(0), -qx_[faceX(i, j)]) + std::max(Real(0), qx_[faceX(i + 1, j)]) +
                   std::max(Real(0), -qy_[faceY(i, j)]) + std::max(Real(0), qy_[faceY(i, j + 1)]);
        out *= k;
        factor_[c] = out > h_[c] ? h_[c] / out : Real(1);
      }
    }
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_)
    for (int j = 0; j < ny_; ++j) {
      for (int i = 0; i <= nx_; ++i) {
        Real& q = qx_[faceX(i, j)];
        if (q > 0 && i > 0) q *= factor_[cell(i - 1, j)];
        if (q < 0 && i < nx_) q *= factor_[cell(i, j)];
      }
    }
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_)
    for (int j = 0; j <= ny_; ++j) {
      for (int i = 0; i < nx_; ++i) {
        Real& q = qy_[faceY(i, j)];
        if (q > 0 && j > 0) q *= factor_[cell(i, j - 1)];
        if (q < 0 && j < ny_) q *= factor_[cell(i, j)];
      }
    }
  }

  // Volumes through the four edges this step (outflow positive).
  void accountBoundaries(double dt) {
    double net = 0;
    for (int j = 0; j < ny_; ++j) net += -double(qx_[faceX(0, j)]) + double(qx_[faceX(nx_, j)]);
    for (int i = 0; i < nx_; ++i) net += -double(qy_[faceY(i, 0)]) + double(qy_[faceY(i, ny_)]);
    // Each face moves q dx dt, but the cells see it as q dt / dx of depth: the same volume.
    double vol = net * dt * dx_;
    if (vol > 0) balance_.outflow += vol;
    else balance_.inflow -= vol;
  }

  void updateDepths(const Hyetograph& rain, double dt) {
    const Real k = Real(dt / dx_);
    const double rainDepth = rain.depthBetween(time_, time_ + dt);
    const double tNew = time_ + dt;
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_)
    for (int j = 0; j < ny_; ++j) {
      double stored = 0, loss = 0;
      Real rowMax = 0;
      for (int i = 0; i < nx_; ++i) {
        size_t c = cell(i, j);
        if (!active_[c]) continue;
        Real qw = qx_[faceX(i, j)], qe = qx_[faceX(i + 1, j)];
        Real qn = qy_[faceY(i, j)], qs = qy_[faceY(i, j + 1)];
        Real h = h_[c] + k * (qw - qe + qn - qs);
        Real r = Real(rainDepth);
        Real held = std::min(lossStore_[c], r);
        lossStore_[c] -= held;
        h += r - held;
        h = std::max(h, Real(0));
        Real inf = std::min(h, infiltration_[c] * Real(dt));
        h -= inf;
        h_[c] = h;
        loss += double(held) + double(inf);
        stored += double(h);
        rowMax = std::max(rowMax, h);
        trackPeaks(c, qw, qe, qn, qs, tNew);
      }
      rowStored_[j] = stored;
      rowLoss_[j] = loss;
      rowMax_[j] = rowMax;
    }
    const double pointVolume = addPointInflows(dt);
    const double area = dx_ * dx_;
    balance_.rain += rainDepth * area * double(activeCells_);
    balance_.losses += std::accumulate(rowLoss_.begin(), rowLoss_.end(), 0.0) * area;
    balance_.stored = std::accumulate(rowStored_.begin(), rowStored_.end(), 0.0) * area;
    balance_.stored += pointVolume;  // added after the rows were summed
    hMax_ = double(*std::max_element(rowMax_.begin(), rowMax_.end()));
    for (const auto& p : d_.inflows) hMax_ = std::max(hMax_, double(h_[cell(p.i, p.j)]));
  }

  // Adds this step's point inflows to their cells; returns the volume added.
  double addPointInflows(double dt) {
    double added = 0;
    for (const auto& p : d_.inflows) {
      size_t c = cell(p.i, p.j);
      if (!active_[c] || !p.discharge) continue;
      double vol = std::max(0.0, p.discharge(time_ + 0.5 * dt)) * dt;
      h_[c] += Real(vol / (dx_ * dx_));
      balance_.inflow += vol;
      added += vol;
    }
    return added;
  }

  void trackPeaks(size_t c, Real qw, Real qe, Real qn, Real qs, double t) {
    double h = h_[c];
    if (h > peaks_.maxDepth[c]) peaks_.maxDepth[c] = h;
    if (h > 0.01) {
      double u = 0.5 * double(qw + qe) / h, v = 0.5 * double(qn + qs) / h;
      peaks_.maxSpeed[c] = std::max(peaks_.maxSpeed[c], std::sqrt(u * u + v * v));
    }
    if (h >= 0.1 && peaks_.timeTo10cm[c] < 0) peaks_.timeTo10cm[c] = t;
  }

  Domain d_;
  SolverOptions o_;
  int nx_ = 0, ny_ = 0;
  double dx_ = 1;
  int threads_ = 1;
  bool parallel_ = false;  // small grids run on one thread: fork/join would cost more than it saves
  std::vector<Real> z_, h_, n2_, infiltration_, lossStore_, factor_;
  std::vector<uint8_t> active_;
  size_t activeCells_ = 0;  // cells that receive rain
  std::vector<Real> qx_, qy_, qxNew_, qyNew_;
  std::vector<double> rowStored_, rowLoss_;
  std::vector<Real> rowMax_;
  Peaks peaks_;
  MassBalance balance_;
  double time_ = 0, lastStep_ = 0, hMax_ = 0;
  long steps_ = 0;
};

Status validate(const Domain& d) {
  size_t n = d.dem.cells();
  if (d.dem.nx <= 0 || d.dem.ny <= 0 || n != size_t(d.dem.nx) * d.dem.ny) return badRequestData("the DEM is empty");
  if (!(d.dem.dx > 0)) return badRequestData("the cell size must be positive");
  auto sized = [n](size_t s) { return s == 0 || s == 1 || s == n; };
  if (!sized(d.manning.size()) || !sized(d.infiltration.size()) || !(d.blocked.empty() || d.blocked.size() == n) ||
      !(d.initialDepth.empty() || d.initialDepth.size() == n)) {
    return badRequestData("a per-cell input does not match the DEM size");
  }
  for (double m : d.manning) {
    if (!(m > 0)) return badRequestData("Manning's n must be positive");
  }
  for (const auto& p : d.inflows) {
    if (p.i < 0 || p.j < 0 || p.i >= d.dem.nx || p.j >= d.dem.ny) return badRequestData("a point inflow lies outside the DEM");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Solver>> makeSolver(Domain domain, SolverOptions options, Precision precision) {
  ALLMENDE_RETURN_IF_ERROR(validate(domain));
  if (precision == Precision::kFloat) return std::unique_ptr<Solver>(new LocalInertial<float>(std::move(domain), options));
  return std::unique_ptr<Solver>(new LocalInertial<double>(std::move(domain), options));
}

}  // namespace allmende::twin
