#include "twin/solver.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "twin/checkpoint.h"

// The row loops are built twice, for AVX2 and for plain x86-64, and the CPU picks at load time.
// -DALLMENDE_TWIN_NO_CLONES builds the plain one only (to test it on an AVX2 machine). Not under
// the sanitizers: they instrument the ifunc resolver, which the loader runs before their runtime
// is set up (TSan crashed at load).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__) && !defined(ALLMENDE_TWIN_NO_CLONES)
#define ALLMENDE_TWIN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ALLMENDE_TWIN_CLONES
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

// The bed of a cell outside the domain (no-data, blocked): so high that the face flow depth
// max(eta) - max(z) next to it is exactly zero, which closes its faces without a branch.
template <typename Real>
constexpr Real kWall = Real(1e20);

// x^(1/3) for x in [1e-6, 1e4] without a library call, so that the face loops vectorise: a bit
// trick seed (within 4 %) and two Halley steps y (y^3 + 2x) / (2y^3 + x), each cubing the error:
// about 1e-13 relative, far below the uncertainty of Manning's n it multiplies.
template <typename Real>
inline Real cubeRoot(Real x) {
  float xf = float(x);
  uint32_t bits;
  std::memcpy(&bits, &xf, 4);
  bits = bits / 3u + 709921077u;
  float seed;
  std::memcpy(&seed, &bits, 4);
  Real y = Real(seed);
  Real y3 = y * y * y;
  y = y * (y3 + Real(2) * x) / (Real(2) * y3 + x);
  y3 = y * y * y;
  return y * (y3 + Real(2) * x) / (Real(2) * y3 + x);
}

// The constants of one step's face update.
template <typename Real>
struct FaceConstants {
  Real theta, side;     // q' = theta q + side (q_prev + q_next), side = (1 - theta) / 2
  Real gdt, gdtOverDx;  // g dt, g dt / dx
  Real flowDepth;
};

// Bates 2010 eq. 11 with the de Almeida 2012 q' for one face from cell a to cell b (positive
// towards b); n2 is Manning's n squared at the face. Branch-free: a face whose flow depth is
// not above `flowDepth` carries nothing.
template <typename Real>
inline Real faceFlux(Real q, Real qBar, Real za, Real ha, Real zb, Real hb, Real n2, const FaceConstants<Real>& c) {
  Real etaA = za + ha, etaB = zb + hb;
  Real hf = std::max(etaA, etaB) - std::max(za, zb);
  Real hfc = std::max(hf, c.flowDepth);
  Real h73 = hfc * hfc * cubeRoot(hfc);
  Real num = qBar - c.gdtOverDx * hfc * (etaB - etaA);
  // num / (1 + g dt n2 |q| / hf^(7/3)), with one division.
  Real flux = num * h73 / (h73 + c.gdt * n2 * std::abs(q));
  return hf > c.flowDepth ? flux : Real(0);
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
    active_.resize(n);
    for (size_t k = 0; k < n; ++k) {
      active_[k] = !d_.dem.isNoData(k) && (d_.blocked.empty() || !d_.blocked[k]);
      z_[k] = active_[k] ? Real(d_.dem.v[k]) : kWall<Real>;
      double m = perCell(d_.manning, k, 0.035);
      n2_[k] = Real(m * m);
      if (active_[k]) h_[k] = Real(perCell(d_.initialDepth, k, 0));
    }
    if (d_.infiltration.size() > 1) {
      infiltration_.resize(n);
      for (size_t k = 0; k < n; ++k) infiltration_[k] = Real(d_.infiltration[k]);
    } else {
      uniformInfiltration_ = perCell(d_.infiltration, 0, 0);
    }
    // Rain and the initial loss are the same on every cell, so the loss store is one number.
    lossStore_ = d_.initialLoss;
    qx_.assign(size_t(nx_ + 1) * ny_, 0);
    qy_.assign(size_t(nx_) * (ny_ + 1), 0);
    qxNew_ = qx_;
    qyNew_ = qy_;
    // The limiter factors with a frame of ones: inflow through an edge is never scaled.
    factor_.assign(size_t(nx_ + 2) * (ny_ + 2), 1);
    maxDepth_.assign(n, 0);
    maxSpeed2_.assign(n, 0);
    timeTo10cm_.assign(n, -1);
    balance_.initial = storedVolume();
    activeCells_ = size_t(std::count(active_.begin(), active_.end(), uint8_t(1)));
    hMax_ = *std::max_element(h_.begin(), h_.end());
#ifdef _OPENMP
    threads_ = o_.threads > 0 ? o_.threads : omp_get_max_threads();
    parallel_ = threads_ > 1 && n >= 16384;
#endif
    lossScratch_.assign(size_t(threads_) * nx_, 0);
    // Blocks of at least 48 rows, at most 32 of them, whatever the number of threads: so the sums
    // (in block order) and so the results are the same on any number of threads.
    blocks_ = std::clamp(ny_ / 48, 1, 32);
    blockSums_.assign(size_t(blocks_), RowSums{});
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

  // One step has three stages per row, each reading what the one before wrote:
  //   1. fluxes (fluxRowX/Y): qxNew_, qyNew_ from qx_, qy_, h_ (every face, edges included);
  //   2. limiter (factorRow): the factor of each cell from its four new faces;
  //   3. depths (updateRow): the limited faces into qx_, qy_ (each face written by one row),
  //      then h_ and the peaks.
  // They run in one parallel region, lagged row by row (below).
  double step(const Hyetograph& rain, double limit) override {
    for (int k = 0; k < 4; ++k) ghost_[k] = ghostDepth(*edges()[k]);
    const double dt = stepLength(limit);
    const double rainDepth = rain.depthBetween(time_, time_ + dt);
    const double held = std::min(lossStore_, rainDepth);
    lossStore_ -= held;
    const FaceConstants<Real> fc{Real(o_.theta), Real(0.5 * (1 - o_.theta)), Real(o_.gravity * dt),
                                 Real(o_.gravity * dt / dx_), Real(o_.flowDepth)};
    const Real k = Real(dt / dx_);
    const Real netRain = Real(rainDepth - held);
    const Real infiltrationDepth = Real(uniformInfiltration_ * dt);
    const Real tNew = Real(time_ + dt);
    auto update = [&](int j) {
      return !infiltration_.empty()  ? updateRow<Losses::kPerCell>(j, k, netRain, Real(dt), tNew)
             : infiltrationDepth > 0 ? updateRow<Losses::kUniform>(j, k, netRain, infiltrationDepth, tNew)
                                     : updateRow<Losses::kNone>(j, k, netRain, 0, tNew);
    };
    std::fill(blockSums_.begin(), blockSums_.end(), RowSums{});
    auto add = [this](int b, const RowSums& s) {
      RowSums& sums = blockSums_[size_t(b)];
      sums.stored += s.stored;
      sums.losses += s.losses;
      sums.hMax = std::max(sums.hMax, s.hMax);
    };
#pragma omp parallel num_threads(threads_) if (parallel_)
    {
      // The rows are cut into blocks, handed out to the threads as they come free (dynamic): a
      // thread on a core shared with other work does fewer of them, so two threads are not
      // held to the pace of the slower one. A block is swept once, the three stages lagged so
      // that the rows they share are still in cache: at row r, the fluxes of row r, the limiter
      // of row r - 1 (it needs the y faces below it) and the depths of row r - 2 (they need the
      // limiter of the row below). The rows at a block's ends depend on the neighbouring blocks
      // and are done behind the barriers that end each loop.
#pragma omp for schedule(dynamic, 1)
      for (int b = 0; b < blocks_; ++b) {
        const int j0 = blockStart(b), j1 = blockStart(b + 1);
        for (int r = j0; r < j1; ++r) {
          fluxRowX(r, fc);
          fluxRowY(r, fc);
          if (r == ny_ - 1) fluxRowY(ny_, fc);  // the south edge
          if (r - 1 >= j0) factorRow(r - 1, k);
          if (r - 2 >= j0 + 1 && r - 2 < j1 - 2) add(b, update(r - 2));
        }
      }
#pragma omp for schedule(static)
      for (int b = 0; b < blocks_; ++b) factorRow(blockStart(b + 1) - 1, k);  // needs the next block's first y faces
#pragma omp for schedule(static)
      for (int b = 0; b < blocks_; ++b) {
        const int j0 = blockStart(b), j1 = blockStart(b + 1);
        add(b, update(j0));  // needs the limiter of the previous block's last row
        for (int u = std::max(j0 + 1, j1 - 2); u < j1; ++u) add(b, update(u));
      }
    }
    double stored = 0, losses = 0, hMax = 0;
    for (const RowSums& s : blockSums_) {  // in block order: the same sums on any number of threads
      stored += s.stored;
      losses += s.losses;
      hMax = std::max(hMax, s.hMax);
    }
    accountBoundaries(dt);
    const double area = dx_ * dx_;
    balance_.rain += rainDepth * area * double(activeCells_);
    balance_.losses += (losses + held * double(activeCells_)) * area;
    balance_.stored = stored * area + addPointInflows(dt);  // added after the rows were summed
    hMax_ = hMax;
    for (const auto& p : d_.inflows) hMax_ = std::max(hMax_, double(h_[cell(p.i, p.j)]));
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
  std::string saveState() const override {
    StateWriter w;
    w.value(kStateMagic);
    w.value(uint32_t(sizeof(Real)));
    w.value(int32_t(nx_));
    w.value(int32_t(ny_));
    w.value(time_);
    w.value(int64_t(steps_));
    w.value(lastStep_);
    w.value(hMax_);
    w.value(lossStore_);
    w.value(balance_);
    for (const auto* v : {&h_, &qx_, &qy_, &maxDepth_, &maxSpeed2_, &timeTo10cm_}) w.vector(*v);
    return w.take();
  }

  Status restoreState(std::string_view state) override {
    StateReader r(state);
    uint64_t magic = 0;
    uint32_t realSize = 0;
    int32_t nx = 0, ny = 0;
    int64_t steps = 0;
    if (!r.value(magic) || magic != kStateMagic || !r.value(realSize) || realSize != sizeof(Real) || !r.value(nx) ||
        !r.value(ny) || nx != nx_ || ny != ny_) {
      return badRequestData("the saved state is not one of this grid and precision");
    }
    double time = 0, lastStep = 0, hMax = 0, lossStore = 0;
    MassBalance balance;
    r.value(time);
    r.value(steps);
    r.value(lastStep);
    r.value(hMax);
    r.value(lossStore);
    r.value(balance);
    std::vector<Real> h, qx, qy, maxDepth, maxSpeed2, t10;
    r.vector(h, h_.size());
    r.vector(qx, qx_.size());
    r.vector(qy, qy_.size());
    r.vector(maxDepth, h_.size());
    r.vector(maxSpeed2, h_.size());
    r.vector(t10, h_.size());
    if (!r.ok() || !r.atEnd()) return badRequestData("the saved state is incomplete");
    h_ = std::move(h);
    qx_ = std::move(qx);
    qy_ = std::move(qy);
    maxDepth_ = std::move(maxDepth);
    maxSpeed2_ = std::move(maxSpeed2);
    timeTo10cm_ = std::move(t10);
    time_ = time;
    steps_ = long(steps);
    lastStep_ = lastStep;
    hMax_ = hMax;
    lossStore_ = lossStore;
    balance_ = balance;
    return Status::ok();
  }

  const Peaks& peaks() const override {
    size_t n = h_.size();
    peaks_.maxDepth.resize(n);
    peaks_.maxSpeed.resize(n);
    peaks_.timeTo10cm.resize(n);
    for (size_t c = 0; c < n; ++c) {
      peaks_.maxDepth[c] = maxDepth_[c];
      peaks_.maxSpeed[c] = std::sqrt(double(maxSpeed2_[c]));
      peaks_.timeTo10cm[c] = timeTo10cm_[c];
    }
    return peaks_;
  }

 private:
  struct RowSums {
    double stored = 0, losses = 0, hMax = 0;
  };
  static constexpr uint64_t kStateMagic = 0x31545354'4e495754ull;  // "TWINSTT1"

  size_t cell(int i, int j) const { return size_t(j) * nx_ + i; }
  int blockStart(int b) const { return int(long(ny_) * b / blocks_); }
  size_t faceX(int i, int j) const { return size_t(j) * (nx_ + 1) + i; }                // west face of (i, j)
  size_t faceY(int i, int j) const { return size_t(j) * nx_ + i; }                      // north face of (i, j)
  Real* factorRowPtr(int j) { return factor_.data() + size_t(j + 1) * (nx_ + 2) + 1; }  // j = -1 .. ny

  static int threadIndex() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
  }
  static int teamSize() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
  }

  std::array<const Boundary*, 4> edges() const { return {&d_.west, &d_.east, &d_.north, &d_.south}; }

  double storedVolume() const {
    double sum = 0;
    for (Real v : h_) sum += double(v);
    return sum * dx_ * dx_;
  }

  Progress currentProgress(double endTime) const { return Progress{time_, endTime, steps_, lastStep_, balance_}; }

  double ghostDepth(const Boundary& b) const {
    return b.kind == Boundary::Kind::kDepth && b.depth ? b.depth(time_) : 0;
  }

  // Bates 2010 eq. 13: dt = alpha dx / sqrt(g h_max), over the grid and depth boundaries.
  double stepLength(double limit) {
    double hMax = hMax_;
    for (double g : ghost_) hMax = std::max(hMax, g);
    double dt = o_.maxStep;
    if (hMax > 1e-9) dt = std::min(dt, o_.alpha * dx_ / std::sqrt(o_.gravity * hMax));
    lastStep_ = std::min(dt, limit);
    return lastStep_;
  }

  // Flux through an edge face; `outward` is +1 when positive q leaves the domain (east/south).
  Real edgeFlux(int edge, size_t inner, Real q, Real qBar, int outward, const FaceConstants<Real>& c) const {
    const Boundary& b = *edges()[edge];
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
        Real hg = Real(ghost_[edge]);
        if (outward > 0) return faceFlux(q, qBar, z_[inner], h, z_[inner], hg, n2_[inner], c);
        return faceFlux(q, qBar, z_[inner], hg, z_[inner], h, n2_[inner], c);
      }
    }
    return 0;
  }

  // The x faces of row j: the interior ones in one vectorisable loop, then the two edges.
  ALLMENDE_TWIN_CLONES void fluxRowX(int j, const FaceConstants<Real>& c) {
    const Real* __restrict z = z_.data() + cell(0, j);
    const Real* __restrict h = h_.data() + cell(0, j);
    const Real* __restrict n2 = n2_.data() + cell(0, j);
    const Real* __restrict q = qx_.data() + faceX(0, j);
    Real* __restrict out = qxNew_.data() + faceX(0, j);
#pragma omp simd
    for (int i = 1; i < nx_; ++i) {
      Real qBar = c.theta * q[i] + c.side * (q[i - 1] + q[i + 1]);
      out[i] = faceFlux(q[i], qBar, z[i - 1], h[i - 1], z[i], h[i], Real(0.5) * (n2[i - 1] + n2[i]), c);
    }
    // An edge face has one neighbour in the row: q' weighs itself in for the missing one.
    Real qw = c.theta * q[0] + c.side * (q[0] + q[1]);
    out[0] = edgeFlux(0, cell(0, j), q[0], qw, -1, c);
    Real qe = c.theta * q[nx_] + c.side * (q[nx_ - 1] + q[nx_]);
    out[nx_] = edgeFlux(1, cell(nx_ - 1, j), q[nx_], qe, +1, c);
  }

  // The y faces of face row j (between cell rows j - 1 and j; 0 and ny are the edges).
  ALLMENDE_TWIN_CLONES void fluxRowY(int j, const FaceConstants<Real>& c) {
    const Real* __restrict q = qy_.data() + faceY(0, j);
    Real* __restrict out = qyNew_.data() + faceY(0, j);
    const Real* __restrict qUp = j > 0 ? q - nx_ : q;
    const Real* __restrict qDown = j < ny_ ? q + nx_ : q;
    if (j == 0 || j == ny_) {
      const int edge = j == 0 ? 2 : 3;
      const int row = j == 0 ? 0 : ny_ - 1;
      for (int i = 0; i < nx_; ++i) {
        Real qBar = c.theta * q[i] + c.side * (qUp[i] + qDown[i]);
        out[i] = edgeFlux(edge, cell(i, row), q[i], qBar, j == 0 ? -1 : +1, c);
      }
      return;
    }
    const Real* __restrict za = z_.data() + cell(0, j - 1);
    const Real* __restrict ha = h_.data() + cell(0, j - 1);
    const Real* __restrict na = n2_.data() + cell(0, j - 1);
    const Real* __restrict zb = z_.data() + cell(0, j);
    const Real* __restrict hb = h_.data() + cell(0, j);
    const Real* __restrict nb = n2_.data() + cell(0, j);
#pragma omp simd
    for (int i = 0; i < nx_; ++i) {
      Real qBar = c.theta * q[i] + c.side * (qUp[i] + qDown[i]);
      out[i] = faceFlux(q[i], qBar, za[i], ha[i], zb[i], hb[i], Real(0.5) * (na[i] + nb[i]), c);
    }
  }

  // No cell may give away more water in one step than it holds: its outgoing fluxes are scaled
  // down together by factor = h / outflow. Each face is then scaled by the factor of the cell it
  // drains (updateRow).
  ALLMENDE_TWIN_CLONES void factorRow(int j, Real k) {
    const Real* __restrict qx = qxNew_.data() + faceX(0, j);
    const Real* __restrict qn = qyNew_.data() + faceY(0, j);
    const Real* __restrict qs = qn + nx_;
    const Real* __restrict h = h_.data() + cell(0, j);
    Real* __restrict f = factorRowPtr(j);
#pragma omp simd
    for (int i = 0; i < nx_; ++i) {
      Real w = qx[i], e = qx[i + 1], n = qn[i], s = qs[i];
      Real out = k * ((w < 0 ? -w : Real(0)) + (e > 0 ? e : Real(0)) + (n < 0 ? -n : Real(0)) + (s > 0 ? s : Real(0)));
      Real limited = h[i] / std::max(out, std::numeric_limits<Real>::min());
      f[i] = out > h[i] ? limited : Real(1);
    }
  }

  // Limits the faces of row j (its x faces, the y face row above it, and the south edge after
  // the last row) into qx_, qy_, and updates the depths of row j: continuity, net rain (active
  // cells only), infiltration, peaks. Every face of a cell is limited here from the factors, so
  // a cell never waits for a face another thread writes.
  // Infiltration: none, one rate for every cell, or a rate per cell.
  enum class Losses { kNone, kUniform, kPerCell };

  template <Losses kLosses>
  ALLMENDE_TWIN_CLONES RowSums updateRow(int j, Real k, Real rain, Real infiltration, Real tNew) {
    const Real* __restrict qx = qxNew_.data() + faceX(0, j);
    const Real* __restrict qn = qyNew_.data() + faceY(0, j);
    const Real* __restrict qs = qn + nx_;
    const Real* __restrict fUp = factorRowPtr(j - 1);
    const Real* __restrict f = factorRowPtr(j);
    const Real* __restrict fDown = factorRowPtr(j + 1);
    Real* __restrict qxOut = qx_.data() + faceX(0, j);
    Real* __restrict qyOut = qy_.data() + faceY(0, j);
    Real* __restrict h = h_.data() + cell(0, j);
    const uint8_t* __restrict act = active_.data() + cell(0, j);
    const Real* __restrict inf = kLosses == Losses::kPerCell ? infiltration_.data() + cell(0, j) : nullptr;
    Real* __restrict lostRow = lossScratch_.data() + size_t(threadIndex()) * nx_;
    Real* __restrict maxDepth = maxDepth_.data() + cell(0, j);
    Real* __restrict maxSpeed2 = maxSpeed2_.data() + cell(0, j);
    Real* __restrict t10 = timeTo10cm_.data() + cell(0, j);
    // The volumes are summed after the loop, over the row in cache: a double sum in the loop
    // keeps GCC from vectorising it for floats.
    Real hMax = 0;
#pragma omp simd reduction(max : hMax)
    for (int i = 0; i < nx_; ++i) {
      // The factor frame (index -1 and nx) is 1: water entering through an edge is not limited.
      // Every operand is loaded before the selects, so that they need no masked loads.
      Real fw = f[i - 1], fc = f[i], fe = f[i + 1], fn = fUp[i], fs = fDown[i];
      Real w = qx[i], e = qx[i + 1], n = qn[i], s = qs[i];
      w *= w > 0 ? fw : fc;
      e *= e > 0 ? fc : fe;
      n *= n > 0 ? fn : fc;
      s *= s > 0 ? fc : fs;
      qxOut[i] = w;
      qyOut[i] = n;
      Real hNew = std::max(h[i] + k * (w - e + n - s) + Real(act[i]) * rain, Real(0));
      if constexpr (kLosses != Losses::kNone) {
        Real lost = std::min(hNew, kLosses == Losses::kPerCell ? inf[i] * infiltration : infiltration);
        hNew -= lost;
        lostRow[i] = lost;
      }
      h[i] = hNew;
      hMax = std::max(hMax, hNew);
      Real before = maxDepth[i], reached = t10[i];
      maxDepth[i] = hNew > before ? hNew : before;
      Real now = hNew >= Real(0.1) ? tNew : Real(-1);  // two plain selects vectorise, an && does not
      t10[i] = reached < 0 ? now : reached;
      Real invH = Real(1) / std::max(hNew, Real(0.01));
      Real u = Real(0.5) * (w + e) * invH, v = Real(0.5) * (n + s) * invH;
      Real speed2 = hNew > Real(0.01) ? u * u + v * v : Real(0), peak = maxSpeed2[i];
      maxSpeed2[i] = speed2 > peak ? speed2 : peak;
    }
    // The east edge face, and the south edge faces after the last row.
    Real e = qx[nx_];
    qxOut[nx_] = e * (e > 0 ? f[nx_ - 1] : f[nx_]);
    if (j == ny_ - 1) {
      for (int i = 0; i < nx_; ++i) qyOut[nx_ + i] = qs[i] * (qs[i] > 0 ? f[i] : fDown[i]);
    }
    // Volumes in double whatever the precision.
    double stored = 0, losses = 0;
#pragma omp simd reduction(+ : stored)
    for (int i = 0; i < nx_; ++i) stored += double(h[i]);
    if constexpr (kLosses != Losses::kNone) {
#pragma omp simd reduction(+ : losses)
      for (int i = 0; i < nx_; ++i) losses += double(lostRow[i]);
    }
    return RowSums{stored, losses, double(hMax)};
  }

  // Volumes through the four edges this step (outflow positive).
  void accountBoundaries(double dt) {
    double net = 0;
    for (int j = 0; j < ny_; ++j) net += -double(qx_[faceX(0, j)]) + double(qx_[faceX(nx_, j)]);
    for (int i = 0; i < nx_; ++i) net += -double(qy_[faceY(i, 0)]) + double(qy_[faceY(i, ny_)]);
    // Each face moves q dx dt, but the cells see it as q dt / dx of depth: the same volume.
    double vol = net * dt * dx_;
    if (vol > 0)
      balance_.outflow += vol;
    else
      balance_.inflow -= vol;
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

  Domain d_;
  SolverOptions o_;
  int nx_ = 0, ny_ = 0;
  double dx_ = 1;
  int threads_ = 1;
  bool parallel_ = false;  // small grids run on one thread: fork/join would cost more than it saves
  std::vector<Real> z_, h_, n2_, infiltration_, factor_;
  std::vector<Real> lossScratch_;   // one row per thread: the infiltration of the row's cells
  int blocks_ = 1;                  // blocks of rows (step)
  std::vector<RowSums> blockSums_;  // per block: its rows' volumes and maximum depth
  std::vector<uint8_t> active_;
  double uniformInfiltration_ = 0;  // m/s, when infiltration_ is empty
  double lossStore_ = 0;            // m of initial loss left, the same on every cell
  std::array<double, 4> ghost_{};   // depth of the ghost cells beyond W, E, N, S this step
  size_t activeCells_ = 0;          // cells that receive rain
  std::vector<Real> qx_, qy_, qxNew_, qyNew_;
  std::vector<Real> maxDepth_, maxSpeed2_, timeTo10cm_;
  mutable Peaks peaks_;
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
    if (p.i < 0 || p.j < 0 || p.i >= d.dem.nx || p.j >= d.dem.ny)
      return badRequestData("a point inflow lies outside the DEM");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Solver>> makeSolver(Domain domain, SolverOptions options, Precision precision) {
  ALLMENDE_RETURN_IF_ERROR(validate(domain));
  if (precision == Precision::kFloat)
    return std::unique_ptr<Solver>(new LocalInertial<float>(std::move(domain), options));
  return std::unique_ptr<Solver>(new LocalInertial<double>(std::move(domain), options));
}

}  // namespace allmende::twin
