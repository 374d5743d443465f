// qttdm's tfjs kernels on libtorch (ATen), as a Node-API addon.
//
// Tensors live in a slot table owned by this addon; JavaScript holds slot numbers. A kernel call passes its
// arguments through two buffers shared with JavaScript at `init` (an Int32Array and a Float64Array) instead
// of as N-API values: a call then costs one N-API transition, which matters because a DQN update runs a
// few hundred small kernels.
//
// Layout of a call `exec(op)`:
//   ints[0] = number of inputs n, ints[1..n] = input slots, ints[n+1] = number of integer attributes m,
//   ints[n+2 .. n+1+m] = the attributes (meaning per op below); nums[] = floating-point attributes.
// On return: ints[0] = number of outputs k, then per output: slot, dtype code, rank, dims.
// dtype codes: 0 float32, 1 int32, 2 bool (tfjs's dtypes; int64/float64 results are narrowed to these).
#include <node_api.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <dlfcn.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct State {
  std::vector<at::Tensor> slots;
  std::vector<int32_t> free_slots;
  int64_t live = 0;
  int64_t bytes = 0;
  int32_t* ints = nullptr;
  size_t ints_len = 0;
  double* nums = nullptr;
  size_t nums_len = 0;
  napi_ref ints_ref = nullptr;
  napi_ref nums_ref = nullptr;
  at::Device device = at::kCPU;
};
// One table per thread: each Node worker thread (qttdm compare's runs) loads the addon in its own environment on
// its own thread, and must not see another's slots.
thread_local State S;

// ---------------------------------------------------------------------------------------------------------
// Slots and dtypes

at::ScalarType scalar_type(int32_t code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kInt;
    case 2: return at::kBool;
  }
  throw std::runtime_error("unknown dtype code " + std::to_string(code));
}

int32_t dtype_code(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return 0;
    case at::kInt: return 1;
    case at::kBool: return 2;
    default: throw std::runtime_error(std::string("unsupported result dtype ") + c10::toString(t));
  }
}

// tfjs has no 64-bit or 8-bit integer dtypes: results of those types are narrowed to float32 / int32.
at::Tensor narrow_dtype(at::Tensor t) {
  switch (t.scalar_type()) {
    case at::kFloat: case at::kInt: case at::kBool: return t;
    case at::kDouble: case at::kHalf: case at::kBFloat16: return t.to(at::kFloat);
    default: return t.to(at::kInt);
  }
}

at::TensorOptions opts(at::ScalarType t) { return at::TensorOptions().dtype(t).device(S.device); }

int32_t put(at::Tensor t) {
  t = narrow_dtype(std::move(t));
  S.live++;
  S.bytes += t.numel() * static_cast<int64_t>(t.element_size());
  if (!S.free_slots.empty()) {
    int32_t id = S.free_slots.back();
    S.free_slots.pop_back();
    S.slots[id] = std::move(t);
    return id;
  }
  S.slots.push_back(std::move(t));
  return static_cast<int32_t>(S.slots.size() - 1);
}

const at::Tensor& get(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= S.slots.size() || !S.slots[id].defined()) {
    throw std::runtime_error("tensor slot " + std::to_string(id) + " is not live");
  }
  return S.slots[id];
}

void release(int32_t id) {
  const at::Tensor& t = get(id);
  S.live--;
  S.bytes -= t.numel() * static_cast<int64_t>(t.element_size());
  S.slots[id] = at::Tensor();
  S.free_slots.push_back(id);
}

// ---------------------------------------------------------------------------------------------------------
// The ops. Names are tfjs kernel names; attributes are encoded by src/backend/libtorch/backend.ts. Names starting
// with Qttdm are qttdm's own fused kernels (src/nets/fused.ts), one ATen call where tfjs composes several ops.

#define QTTDM_OPS(X)                                                                                       \
  X(Add) X(Sub) X(Multiply) X(RealDiv) X(FloorDiv) X(Mod) X(Maximum) X(Minimum) X(Pow) X(SquaredDifference)      \
  X(Atan2) X(Equal) X(NotEqual) X(Less) X(LessEqual) X(Greater) X(GreaterEqual) X(LogicalAnd) X(LogicalOr) \
  X(Abs) X(Neg) X(Exp) X(Expm1) X(Log) X(Log1p) X(Sqrt) X(Rsqrt) X(Square) X(Reciprocal) X(Tanh)             \
  X(Sigmoid) X(Relu) X(Relu6) X(Elu) X(Selu) X(Softplus) X(Erf) X(Sign) X(Floor) X(Ceil) X(Round) X(Sin)     \
  X(Cos) X(IsNan) X(IsInf) X(IsFinite) X(LogicalNot) X(Step) X(LeakyRelu) X(Prelu) X(ClipByValue) X(Cast)   \
  X(Identity) X(Reshape) X(Transpose) X(Sum) X(Mean) X(Max) X(Min) X(Prod) X(All) X(Any) X(ArgMax)           \
  X(ArgMin) X(Softmax) X(BatchMatMul) X(_FusedMatMul) X(Slice) X(Concat) X(Pack) X(Unpack)     \
  X(SplitV) X(Tile) X(PadV2) X(Reverse) X(GatherV2) X(OneHot) X(Fill) X(ZerosLike) X(OnesLike) X(Range)      \
  X(Select) X(Cumsum) X(AddN) X(StridedSlice) X(QttdmLayerNorm) X(QttdmLayerNormGrad) X(QttdmActivationGrad)     \
  X(QttdmAdam) X(QttdmGelu) X(QttdmCachedBlock) X(QttdmAttention) X(QttdmAttentionGrad)

enum Op {
#define X(name) op_##name,
  QTTDM_OPS(X)
#undef X
  op_count
};

const char* const kOpNames[] = {
#define X(name) #name,
    QTTDM_OPS(X)
#undef X
};

struct Args {
  int32_t n_in;
  const int32_t* in;
  int32_t n_int;
  const int32_t* iv;
  const double* fv;
  const at::Tensor& x(int i) const {
    if (i >= n_in) throw std::runtime_error("missing input " + std::to_string(i));
    return get(in[i]);
  }
  int32_t i(int k) const {
    if (k >= n_int) throw std::runtime_error("missing integer attribute " + std::to_string(k));
    return iv[k];
  }
  std::vector<int64_t> list(int from, int count) const {
    std::vector<int64_t> v(count);
    for (int k = 0; k < count; k++) v[k] = i(from + k);
    return v;
  }
  // A length-prefixed list starting at `from`; `next` receives the index after it.
  std::vector<int64_t> counted(int from, int* next = nullptr) const {
    int n = i(from);
    if (next) *next = from + 1 + n;
    return list(from + 1, n);
  }
};

// tfjs reduces over no axes as the identity; ATen reads an empty dim list as "all dims".
template <typename F>
at::Tensor reduce(const at::Tensor& x, const std::vector<int64_t>& dims, F f) {
  if (dims.empty()) return x.clone();
  return f(x, at::IntArrayRef(dims));
}

// One pre-LN transformer block (nets/layers.ts TransformerBlock, as agents/tdm/incremental.ts runs it) on n new
// tokens per row with a KV cache: x + attn(ln1(x)); x + fc2(act(fc1(ln2(x)))). Inputs: h [b·n, d], ln1 γ β,
// q k v proj (kernel [d, d], bias), ln2 γ β, fc1, fc2 (kernel, bias), then the cached keys and values
// [b, heads, t, dh] when ints[4] is 1. ints: b, n, heads, activation (0 linear, 1 relu, 2 leaky_relu, 3 gelu,
// 4 tanh), has cache; nums: layer-norm eps, q scale, leaky slope. Outputs: h′ [b·n, d], keys and values
// [b, heads, t + n, dh]. One call where the composed form is ~20 kernels per block: autoregressive decoding
// makes thousands of these small calls per planned action.
std::vector<at::Tensor> cached_block(const Args& A) {
  const at::Tensor& h = A.x(0);
  const int64_t b = A.i(0), n = A.i(1), heads = A.i(2), d = h.size(1), dh = d / heads;
  const bool cached = A.i(4) != 0;
  const double eps = A.fv[0];
  const auto split = [&](const at::Tensor& t) { return t.view({b, n, heads, dh}).transpose(1, 2); };
  at::Tensor a = at::layer_norm(h, {d}, A.x(1), A.x(2), eps);
  at::Tensor q = split(at::addmm(A.x(4), a, A.x(3)).mul_(A.fv[1]));
  at::Tensor k = split(at::addmm(A.x(6), a, A.x(5)));
  at::Tensor v = split(at::addmm(A.x(8), a, A.x(7)));
  if (cached) {
    k = at::cat({A.x(17), k}, 2);
    v = at::cat({A.x(18), v}, 2);
  } else {
    k = k.contiguous();
    v = v.contiguous();
  }
  at::Tensor scores = at::matmul(q, k.transpose(2, 3));
  if (n > 1) {
    // New token i (at position t + i) sees keys ≤ t + i: −1e9 added above that, as the composed form.
    const int64_t total = k.size(2), start = total - n;
    at::Tensor later = at::arange(total, opts(at::kInt)).unsqueeze(0) > (at::arange(n, opts(at::kInt)) + start).unsqueeze(1);
    scores.add_(at::zeros({n, total}, opts(at::kFloat)).masked_fill_(later, -1e9));
  }
  at::Tensor o = at::matmul(at::softmax(scores, -1), v).transpose(1, 2).reshape({b * n, d});
  at::Tensor x = h + at::addmm(A.x(10), o, A.x(9));
  at::Tensor m = at::addmm(A.x(14), at::layer_norm(x, {d}, A.x(11), A.x(12), eps), A.x(13));
  switch (A.i(3)) {
    case 0: break;
    case 1: m = at::relu_(m); break;
    case 2: m = at::leaky_relu_(m, A.fv[2]); break;
    case 3: m = at::gelu(m); break;
    case 4: m = at::tanh_(m); break;
    default: throw std::runtime_error("unknown block activation code " + std::to_string(A.i(3)));
  }
  x.add_(at::addmm(A.x(16), m, A.x(15)));
  return {x, k, v};
}

// The core of causal multi-head self-attention (nets/layers.ts CausalSelfAttention between its projections):
// o = softmax(scale·q·kᵀ + causal mask)·v per row and head, with q, k, v, o [b·t, d] and heads contiguous along
// d. The composed form is ~12 kernels forward and ~20 backward, and its batched products make one BLAS call per
// (row, head) on t×t×dh blocks of a few thousand multiply-adds, where the call costs more than the arithmetic.
// Here 16 rows of the batch go side by side in the lanes of one vector (gathered per head, scattered back), so
// every step of the small products is a whole-vector multiply-add with no remainder loops. The functions are
// built for AVX-512, AVX2 and baseline x86-64, picked at load time (the addon is otherwise built for the
// baseline). Keys after the query get probability 0, as the composed form's −1e9 mask gives them.
#if defined(__x86_64__) && defined(__GNUC__)
#define QTTDM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define QTTDM_CLONES
#endif

constexpr int64_t kLanes = 16;
// Aligned explicitly: the baseline build would give the type 16-byte alignment, which the AVX-512 clone does not assume.
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float)), aligned(kLanes * sizeof(float))));
typedef int32_t LaneInts __attribute__((vector_size(kLanes * sizeof(int32_t))));

// exp(x) for x ≤ 0 (scores minus their row's max) as Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by its
// polynomial (within ~1 ulp), 2^n by the exponent bits; 0 below −87.3, where float32's exp underflows.
__attribute__((always_inline)) inline Lanes exp_nonpositive(Lanes x) {
  const Lanes floor_x = Lanes{} - 87.3f;
  const LaneInts under = x < floor_x;
  x = under ? floor_x : x;
  const LaneInts n = -__builtin_convertvector(x * -1.44269504088896341f + 0.5f, LaneInts);
  const Lanes nf = __builtin_convertvector(n, Lanes);
  const Lanes r = x - nf * 0.693359375f + nf * 2.12194440e-4f;
  Lanes y = Lanes{} + 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  const LaneInts bits = (n + 127) << 23;
  const Lanes scale = (Lanes)bits;  // GCC's vector casts keep the bits
  return under ? Lanes{} : y * scale;
}

struct LaneBlock {
  int64_t row0, rows;        // the batch rows in the lanes: row0 + l for l < rows (the other lanes hold zeros)
  int64_t t, d, col, dh;     // tokens per row, row width, the head's first column, head width
};

// x [b, t, d] → xl [t·dh] lanes: xl[i·dh + c][l] = x[row0 + l, i, col + c].
__attribute__((always_inline)) inline void gather_lanes(const LaneBlock& B, const float* x, Lanes* xl) {
  for (int64_t k = 0; k < B.t * B.dh; k++) xl[k] = Lanes{};
  for (int64_t l = 0; l < B.rows; l++) {
    const float* row = x + (B.row0 + l) * B.t * B.d + B.col;
    for (int64_t i = 0; i < B.t; i++) {
      for (int64_t c = 0; c < B.dh; c++) xl[i * B.dh + c][l] = row[i * B.d + c];
    }
  }
}

// The inverse of gather_lanes for the rows in the block.
__attribute__((always_inline)) inline void scatter_lanes(const LaneBlock& B, const Lanes* xl, float* x) {
  for (int64_t l = 0; l < B.rows; l++) {
    float* row = x + (B.row0 + l) * B.t * B.d + B.col;
    for (int64_t i = 0; i < B.t; i++) {
      for (int64_t c = 0; c < B.dh; c++) row[i * B.d + c] = xl[i * B.dh + c][l];
    }
  }
}

// One block of rows and one head, forward. p: the block's probabilities [t, t] lanes (kept for the backward
// pass); scratch: 4·t·dh lanes.
QTTDM_CLONES void attention_block(const LaneBlock& B, const float* Q, const float* K, const float* V, float scale, Lanes* p, Lanes* scratch,
                                  float* O) {
  const int64_t t = B.t, dh = B.dh;
  Lanes *q = scratch, *k = q + t * dh, *v = k + t * dh, *o = v + t * dh;
  gather_lanes(B, Q, q);
  gather_lanes(B, K, k);
  gather_lanes(B, V, v);
  for (int64_t i = 0; i < t; i++) {
    Lanes* s = p + i * t;
    const int64_t seen = i + 1;  // keys 0..i
    for (int64_t j = 0; j < t; j++) s[j] = Lanes{};
    for (int64_t c = 0; c < dh; c++) {
      const Lanes qc = q[i * dh + c] * scale;
      for (int64_t j = 0; j < seen; j++) s[j] += qc * k[j * dh + c];
    }
    Lanes mx = s[0];
    for (int64_t j = 1; j < seen; j++) mx = s[j] > mx ? s[j] : mx;
    Lanes sum = Lanes{};
    for (int64_t j = 0; j < seen; j++) {
      s[j] = exp_nonpositive(s[j] - mx);
      sum += s[j];
    }
    const Lanes inv = 1.0f / sum;
    Lanes* oi = o + i * dh;
    for (int64_t c = 0; c < dh; c++) oi[c] = Lanes{};
    for (int64_t j = 0; j < seen; j++) {
      s[j] *= inv;
      for (int64_t c = 0; c < dh; c++) oi[c] += s[j] * v[j * dh + c];
    }
  }
  scatter_lanes(B, o, O);
}

// One block of rows and one head, backward into dq, dk, dv. scratch: 7·t·dh + t lanes.
QTTDM_CLONES void attention_block_grad(const LaneBlock& B, const float* DO, const float* Q, const float* K, const float* V, const Lanes* p,
                                       float scale, Lanes* scratch, float* DQ, float* DK, float* DV) {
  const int64_t t = B.t, dh = B.dh, n = t * dh;
  Lanes *dout = scratch, *q = dout + n, *k = q + n, *v = k + n, *dq = v + n, *dk = dq + n, *dv = dk + n, *dp = dv + n;
  gather_lanes(B, DO, dout);
  gather_lanes(B, Q, q);
  gather_lanes(B, K, k);
  gather_lanes(B, V, v);
  for (int64_t m = 0; m < 3 * n; m++) dq[m] = Lanes{};
  for (int64_t i = 0; i < t; i++) {
    const Lanes* pi = p + i * t;
    const Lanes* doi = dout + i * dh;
    const int64_t seen = i + 1;
    for (int64_t j = 0; j < seen; j++) dp[j] = Lanes{};  // dp_j = do_i·v_j
    for (int64_t c = 0; c < dh; c++) {
      for (int64_t j = 0; j < seen; j++) dp[j] += doi[c] * v[j * dh + c];
    }
    Lanes dot = Lanes{};
    for (int64_t j = 0; j < seen; j++) dot += pi[j] * dp[j];
    for (int64_t j = 0; j < seen; j++) {
      // The softmax's backward, then the scores' two factors.
      const Lanes g = pi[j] * (dp[j] - dot) * scale;
      for (int64_t c = 0; c < dh; c++) {
        dv[j * dh + c] += pi[j] * doi[c];
        dq[i * dh + c] += g * k[j * dh + c];
        dk[j * dh + c] += g * q[i * dh + c];
      }
    }
  }
  scatter_lanes(B, dq, DQ);
  scatter_lanes(B, dk, DK);
  scatter_lanes(B, dv, DV);
}

struct AttentionShape {
  int64_t b, t, heads, d, dh, blocks;
  LaneBlock block(int64_t bh) const {
    const int64_t blk = bh / heads, row0 = blk * kLanes;
    return {row0, std::min(kLanes, b - row0), t, d, (bh % heads) * dh, dh};
  }
};

// The shape from ints b, t, heads, checking that every one of `rows` is float32 [b·t, d] with d divisible by heads.
AttentionShape attention_shape(const Args& A, std::initializer_list<const at::Tensor*> rows) {
  const int64_t b = A.i(0), t = A.i(1), heads = A.i(2), d = (*rows.begin())->size(-1);
  if (heads <= 0 || d % heads != 0) throw std::runtime_error("attention: width " + std::to_string(d) + " is not divisible by heads " + std::to_string(heads));
  for (const at::Tensor* x : rows) {
    if (x->scalar_type() != at::kFloat || x->numel() != b * t * d) throw std::runtime_error("attention: inputs must be float32 [b·t, d]");
  }
  return {b, t, heads, d, d / heads, (b + kLanes - 1) / kLanes};
}

// Scratch of n lanes for the calling thread, 64-byte aligned as ATen allocates (std::vector ignores the type's alignment).
Lanes* lane_scratch(int64_t n) {
  thread_local at::Tensor buffer;
  if (!buffer.defined() || buffer.numel() < n * kLanes) buffer = at::empty({n * kLanes}, at::kFloat);
  return reinterpret_cast<Lanes*>(buffer.data_ptr<float>());
}

// Inputs: q, k, v; ints: b, t, heads; nums: scale. Outputs: o, and the probabilities that the backward pass
// reads, [blocks of 16 rows, heads, t, t, 16 lanes].
std::vector<at::Tensor> attention(const Args& A) {
  const at::Tensor q = A.x(0).contiguous(), k = A.x(1).contiguous(), v = A.x(2).contiguous();
  const AttentionShape S = attention_shape(A, {&q, &k, &v});
  const float scale = static_cast<float>(A.fv[0]);
  at::Tensor o = at::empty(q.sizes(), q.options());
  at::Tensor p = at::empty({S.blocks, S.heads, S.t, S.t, kLanes}, q.options());
  const float *Q = q.data_ptr<float>(), *K = k.data_ptr<float>(), *V = v.data_ptr<float>();
  float* O = o.data_ptr<float>();
  Lanes* P = reinterpret_cast<Lanes*>(p.data_ptr<float>());
  at::parallel_for(0, S.blocks * S.heads, 1, [&](int64_t begin, int64_t end) {
    Lanes* scratch = lane_scratch(4 * S.t * S.dh);
    for (int64_t bh = begin; bh < end; bh++) attention_block(S.block(bh), Q, K, V, scale, P + bh * S.t * S.t, scratch, O);
  });
  return {o, p};
}

// Gradients of `attention` with respect to q, k and v. Inputs: do, q, k, v, probabilities; ints: b, t, heads;
// nums: scale.
std::vector<at::Tensor> attention_grad(const Args& A) {
  const at::Tensor dout = A.x(0).contiguous(), q = A.x(1).contiguous(), k = A.x(2).contiguous(), v = A.x(3).contiguous(),
                   p = A.x(4).contiguous();
  const AttentionShape S = attention_shape(A, {&q, &dout, &k, &v});
  const float scale = static_cast<float>(A.fv[0]);
  if (p.numel() != S.blocks * S.heads * S.t * S.t * kLanes) throw std::runtime_error("attention grad: the probabilities disagree with b, t, heads");
  at::Tensor dq = at::empty(q.sizes(), q.options()), dk = at::empty(k.sizes(), k.options()), dv = at::empty(v.sizes(), v.options());
  const float *DO = dout.data_ptr<float>(), *Q = q.data_ptr<float>(), *K = k.data_ptr<float>(), *V = v.data_ptr<float>();
  const Lanes* P = reinterpret_cast<const Lanes*>(p.data_ptr<float>());
  float *DQ = dq.data_ptr<float>(), *DK = dk.data_ptr<float>(), *DV = dv.data_ptr<float>();
  at::parallel_for(0, S.blocks * S.heads, 1, [&](int64_t begin, int64_t end) {
    Lanes* scratch = lane_scratch(7 * S.t * S.dh + S.t);
    for (int64_t bh = begin; bh < end; bh++) {
      attention_block_grad(S.block(bh), DO, Q, K, V, P + bh * S.t * S.t, scale, scratch, DQ, DK, DV);
    }
  });
  return {dq, dk, dv};
}

at::Tensor activate(at::Tensor y, int32_t act, double alpha, const at::Tensor* prelu) {
  // act codes: 0 linear, 1 relu, 2 relu6, 3 prelu, 4 leakyrelu, 5 elu, 6 sigmoid
  switch (act) {
    case 0: return y;
    case 1: return at::relu_(y);
    case 2: return at::clamp_(y, 0, 6);
    case 3: return at::where(y > 0, y, y * (*prelu));
    case 4: return at::leaky_relu_(y, alpha);
    case 5: return at::elu_(y);
    case 6: return at::sigmoid_(y);
  }
  throw std::runtime_error("unknown fused activation code " + std::to_string(act));
}

bool unit_batch(const at::Tensor& t) {
  for (int64_t d = 0; d + 2 < t.dim(); d++) {
    if (t.size(d) != 1) return false;
  }
  return true;
}

// tfjs's batched product (batch dims broadcast), plus an optional bias [.., n] added to the result. When the right
// operand is one matrix (tfjs passes weights as [1, k, n]) the left operand's rows are folded into one 2-D
// product: mm/addmm measured 2–4 µs cheaper per call than at::matmul's batched path for the small products of
// action selection, and addmm adds the bias inside the GEMM.
at::Tensor matmul(const at::Tensor& a0, const at::Tensor& b0, bool ta, bool tb, const at::Tensor* bias = nullptr) {
  const at::Tensor a = ta ? a0.transpose(-2, -1) : a0;
  const at::Tensor b = tb ? b0.transpose(-2, -1) : b0;
  if (a.dim() < 2 || b.dim() < 2) throw std::runtime_error("matmul operands must have rank >= 2");
  if (unit_batch(b) && (unit_batch(a) || !ta)) {
    std::vector<int64_t> shape;
    const int64_t rank = std::max(a.dim(), b.dim());
    for (int64_t d = 0; d + 2 < rank; d++) {
      const int64_t ia = d - (rank - a.dim()), ib = d - (rank - b.dim());
      shape.push_back(std::max(ia >= 0 ? a.size(ia) : 1, ib >= 0 ? b.size(ib) : 1));
    }
    shape.push_back(a.size(-2));
    shape.push_back(b.size(-1));
    // Each reshape is an ATen call of ~0.5 µs: skip those that change nothing.
    const at::Tensor a2 = a.dim() == 2 ? a : a.reshape({-1, a.size(-1)});
    const at::Tensor b2 = b.dim() == 2 ? b : b.reshape({b.size(-2), b.size(-1)});
    at::Tensor y = bias ? at::addmm(*bias, a2, b2) : at::mm(a2, b2);
    return rank == 2 ? y : y.view(shape);
  }
  at::Tensor y = at::matmul(a, b);
  return bias ? y.add_(*bias) : y;
}

struct AdamCoefs {
  float l2, coef, b1, b2, step, decay, c2, eps;
};

// The element-wise update, apart so that the compiler vectorises it (restrict: outputs never alias inputs).
void adam_update(int64_t n, const float* __restrict g, const float* __restrict p0, const float* __restrict m0, const float* __restrict v0,
                 float* __restrict p, float* __restrict m, float* __restrict v, const AdamCoefs c) {
  for (int64_t i = 0; i < n; i++) {
    const float x = (g[i] + p0[i] * c.l2) * c.coef;
    const float mi = m0[i] * c.b1 + x * (1 - c.b1);
    const float vi = v0[i] * c.b2 + x * x * (1 - c.b2);
    m[i] = mi;
    v[i] = vi;
    p[i] = p0[i] * c.decay - mi * c.step / (std::sqrt(vi) * c.c2 + c.eps);
  }
}

float sum_squares(int64_t n, const float* __restrict g, const float* __restrict p, float l2) {
  // Eight partial sums: a vectorisable reduction that stays within float rounding of a sequential one.
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; l++) {
      const float x = g[i + l] + p[i + l] * l2;
      acc[l] += x * x;
    }
  }
  float total = 0;
  for (; i < n; i++) total += (g[i] + p[i] * l2) * (g[i] + p[i] * l2);
  for (float a : acc) total += a;
  return total;
}

// One Adam step over every parameter group (src/nets/optim.ts has the rule and its tfjs form), as one pass over
// each parameter: ATen ops would make ~12 passes over the flat moments (0.3 ms for W1's 69k parameters).
// Inputs per group: its gradients, its parameters, m, v (flat). ints: groups, then each group's parameter count.
// nums: β1, β2, 1−β1ᵗ, 1/√(1−β2ᵗ), ε, clip norm (< 0: none), then per group lr, decay factor, L2 coefficient.
// Outputs: the global gradient norm before clipping, then per group the new parameters, m and v.
// Flush-to-zero and denormals-are-zero for a scope (x86). Moments of parameters whose gradient stays zero decay
// geometrically into the denormal range, where float arithmetic runs ~100× slower: a dqn-reaper Adam step measured
// 0.32 ms instead of 0.07. Values that small produce steps below 1e-30 either way.
struct FlushDenormals {
#if defined(__SSE__)
  unsigned int saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | 0x8040); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

std::vector<at::Tensor> adam(const Args& A) {
  const FlushDenormals ftz;
  const float b1 = A.fv[0], b2 = A.fv[1], eps = A.fv[4];
  const double bc1 = A.fv[2], inv_sqrt_bc2 = A.fv[3], clip = A.fv[5];
  const int groups = A.i(0);
  struct Param {
    at::Tensor grad, p;
    float l2;
  };
  std::vector<std::vector<Param>> params(groups);
  double sq = 0;
  int in = 0;
  for (int g = 0; g < groups; g++) {
    const int k = A.i(1 + g);
    const float l2 = A.fv[6 + 3 * g + 2];
    for (int j = 0; j < k; j++) {
      Param q{A.x(in + j).to(at::kCPU).contiguous(), A.x(in + k + j).to(at::kCPU).contiguous(), l2};
      sq += sum_squares(q.p.numel(), q.grad.data_ptr<float>(), q.p.data_ptr<float>(), l2);
      params[g].push_back(std::move(q));
    }
    in += 2 * k + 2;
  }
  const double norm = std::sqrt(sq);
  const float coef = clip < 0 ? 1.f : static_cast<float>(std::min(1.0, clip / (norm + 1e-6)));
  std::vector<at::Tensor> out{at::full({}, norm, at::TensorOptions().dtype(at::kFloat))};
  in = 0;
  for (int g = 0; g < groups; g++) {
    const int k = A.i(1 + g);
    const float step = A.fv[6 + 3 * g] / bc1, decay = A.fv[6 + 3 * g + 1], c2 = inv_sqrt_bc2;
    const at::Tensor m0 = A.x(in + 2 * k).to(at::kCPU).contiguous(), v0 = A.x(in + 2 * k + 1).to(at::kCPU).contiguous();
    at::Tensor m = at::empty_like(m0), v = at::empty_like(v0);
    const float *mp0 = m0.data_ptr<float>(), *vp0 = v0.data_ptr<float>();
    float *mp = m.data_ptr<float>(), *vp = v.data_ptr<float>();
    int64_t o = 0;
    for (const Param& q : params[g]) {
      at::Tensor p = at::empty_like(q.p);
      const float *gp = q.grad.data_ptr<float>(), *pp0 = q.p.data_ptr<float>();
      float* pp = p.data_ptr<float>();
      const int64_t n = q.p.numel();
      adam_update(n, gp, pp0, mp0 + o, vp0 + o, pp, mp + o, vp + o, AdamCoefs{q.l2, coef, b1, b2, step, decay, c2, eps});
      o += n;
      out.push_back(p.to(S.device));
    }
    out.push_back(m.to(S.device));
    out.push_back(v.to(S.device));
    in += 2 * k + 2;
  }
  if (!S.device.is_cpu()) out[0] = out[0].to(S.device);
  return out;
}

std::vector<at::Tensor> run(Op op, const Args& A) {
  switch (op) {
    case op_Add: return {at::add(A.x(0), A.x(1))};
    case op_Sub: return {at::sub(A.x(0), A.x(1))};
    case op_Multiply: return {at::mul(A.x(0), A.x(1))};
    case op_RealDiv: return {at::div(A.x(0), A.x(1))};
    case op_FloorDiv: return {at::div(A.x(0), A.x(1), "floor")};
    case op_Mod: return {at::remainder(A.x(0), A.x(1))};
    case op_Maximum: return {at::maximum(A.x(0), A.x(1))};
    case op_Minimum: return {at::minimum(A.x(0), A.x(1))};
    case op_Pow: return {at::pow(A.x(0), A.x(1))};
    case op_SquaredDifference: {
      at::Tensor d = at::sub(A.x(0), A.x(1));
      return {d.mul_(d)};
    }
    case op_Atan2: return {at::atan2(A.x(0), A.x(1))};
    case op_Equal: return {at::eq(A.x(0), A.x(1))};
    case op_NotEqual: return {at::ne(A.x(0), A.x(1))};
    case op_Less: return {at::lt(A.x(0), A.x(1))};
    case op_LessEqual: return {at::le(A.x(0), A.x(1))};
    case op_Greater: return {at::gt(A.x(0), A.x(1))};
    case op_GreaterEqual: return {at::ge(A.x(0), A.x(1))};
    case op_LogicalAnd: return {at::logical_and(A.x(0), A.x(1))};
    case op_LogicalOr: return {at::logical_or(A.x(0), A.x(1))};
    case op_Abs: return {at::abs(A.x(0))};
    case op_Neg: return {at::neg(A.x(0))};
    case op_Exp: return {at::exp(A.x(0))};
    case op_Expm1: return {at::expm1(A.x(0))};
    case op_Log: return {at::log(A.x(0))};
    case op_Log1p: return {at::log1p(A.x(0))};
    case op_Sqrt: return {at::sqrt(A.x(0))};
    case op_Rsqrt: return {at::rsqrt(A.x(0))};
    case op_Square: return {at::square(A.x(0))};
    case op_Reciprocal: return {at::reciprocal(A.x(0))};
    case op_Tanh: return {at::tanh(A.x(0))};
    case op_Sigmoid: return {at::sigmoid(A.x(0))};
    case op_Relu: return {at::relu(A.x(0))};
    case op_Relu6: return {at::clamp(A.x(0), 0, 6)};
    case op_Elu: return {at::elu(A.x(0))};
    case op_Selu: return {at::selu(A.x(0))};
    case op_Softplus: return {at::softplus(A.x(0))};
    case op_Erf: return {at::erf(A.x(0))};
    case op_Sign: return {at::sign(A.x(0))};
    case op_Floor: return {at::floor(A.x(0))};
    case op_Ceil: return {at::ceil(A.x(0))};
    case op_Round: return {at::round(A.x(0))};
    case op_Sin: return {at::sin(A.x(0))};
    case op_Cos: return {at::cos(A.x(0))};
    case op_IsNan: return {at::isnan(A.x(0))};
    case op_IsInf: return {at::isinf(A.x(0))};
    case op_IsFinite: return {at::isfinite(A.x(0))};
    case op_LogicalNot: return {at::logical_not(A.x(0))};
    case op_Step: {
      // tfjs: 1 where x > 0, alpha elsewhere, NaN stays NaN.
      // threshold_backward(g, x, 0) is g where x > 0 and 0 elsewhere; g = clamp(x, 1, 1) is 1 except NaN for NaN.
      // Both are vectorised: comparisons and at::where measured 5–10× slower here (Debian's build).
      const at::Tensor& x = A.x(0);
      at::Tensor y = at::threshold_backward(at::clamp(x, 1, 1), x, 0);
      return {A.fv[0] == 0 ? y : y.mul_(1 - A.fv[0]).add_(A.fv[0])};
    }
    case op_LeakyRelu: return {at::leaky_relu(A.x(0), A.fv[0])};
    case op_Prelu: {
      const at::Tensor& x = A.x(0);
      return {at::where(x > 0, x, x * A.x(1))};
    }
    case op_ClipByValue: return {at::clamp(A.x(0), A.fv[0], A.fv[1])};
    case op_Cast: return {A.x(0).to(scalar_type(A.i(0)))};
    case op_Identity: return {A.x(0)};
    case op_Reshape: return {A.x(0).reshape(A.counted(0))};
    case op_Transpose: return {A.x(0).permute(A.counted(0))};
    case op_Sum:
      return {reduce(A.x(0), A.counted(1), [&](const at::Tensor& x, at::IntArrayRef d) { return at::sum(x, d, A.i(0) != 0); })};
    case op_Mean:
      return {reduce(A.x(0), A.counted(1), [&](const at::Tensor& x, at::IntArrayRef d) { return at::mean(x, d, A.i(0) != 0); })};
    case op_Max:
      return {reduce(A.x(0), A.counted(1), [&](const at::Tensor& x, at::IntArrayRef d) { return at::amax(x, d, A.i(0) != 0); })};
    case op_Min:
      return {reduce(A.x(0), A.counted(1), [&](const at::Tensor& x, at::IntArrayRef d) { return at::amin(x, d, A.i(0) != 0); })};
    case op_Prod:
    case op_All:
    case op_Any: {
      // These ATen reductions take one dim at a time: reduce the highest axis first so lower ones keep their index.
      std::vector<int64_t> dims = A.counted(1);
      const int64_t rank = A.x(0).dim();
      for (auto& d : dims) d = d < 0 ? d + rank : d;
      std::sort(dims.rbegin(), dims.rend());
      at::Tensor y = A.x(0);
      if (dims.empty()) return {y.clone()};
      for (int64_t d : dims) {
        const bool keep = A.i(0) != 0;
        y = op == op_Prod ? at::prod(y, d, keep) : op == op_All ? at::all(y, d, keep) : at::any(y, d, keep);
      }
      return {y};
    }
    case op_ArgMax: return {at::argmax(A.x(0), A.i(0))};
    case op_ArgMin: return {at::argmin(A.x(0), A.i(0))};
    case op_Softmax: return {at::softmax(A.x(0), A.i(0))};
    case op_BatchMatMul: return {matmul(A.x(0), A.x(1), A.i(0) != 0, A.i(1) != 0)};
    case op__FusedMatMul: {
      // ints: transposeA, transposeB, activation, hasBias, hasPrelu; nums: leakyrelu alpha.
      const at::Tensor& a = A.x(0);
      const at::Tensor& b = A.x(1);
      const bool has_bias = A.i(3) != 0, has_prelu = A.i(4) != 0;
      at::Tensor y = matmul(a, b, A.i(0) != 0, A.i(1) != 0, has_bias ? &A.x(2) : nullptr);
      const at::Tensor* prelu = has_prelu ? &A.x(has_bias ? 3 : 2) : nullptr;
      return {activate(std::move(y), A.i(2), A.fv[0], prelu)};
    }
    case op_Slice: {
      // ints: rank, begin[rank], size[rank] (size −1: to the end).
      const int rank = A.i(0);
      at::Tensor y = A.x(0);
      for (int d = 0; d < rank; d++) {
        const int64_t b = A.i(1 + d), s = A.i(1 + rank + d);
        y = y.narrow(d, b, s < 0 ? y.size(d) - b : s);
      }
      return {y};
    }
    case op_Concat:
    case op_Pack:
    case op_AddN: {
      std::vector<at::Tensor> xs;
      for (int k = 0; k < A.n_in; k++) xs.push_back(A.x(k));
      if (op == op_AddN) {
        at::Tensor y = xs[0].clone();
        for (size_t k = 1; k < xs.size(); k++) y.add_(xs[k]);
        return {y};
      }
      return {op == op_Concat ? at::cat(xs, A.i(0)) : at::stack(xs, A.i(0))};
    }
    case op_Unpack: return at::unbind(A.x(0), A.i(0));
    case op_SplitV: return at::split_with_sizes(A.x(0), A.counted(1), A.i(0));
    case op_Tile: return {A.x(0).repeat(A.counted(0))};
    case op_PadV2: {
      // ints: rank, then (before, after) per dim from the first; ATen wants pairs from the last dim.
      const int rank = A.i(0);
      std::vector<int64_t> pad;
      for (int d = rank - 1; d >= 0; d--) {
        pad.push_back(A.i(1 + 2 * d));
        pad.push_back(A.i(2 + 2 * d));
      }
      return {at::constant_pad_nd(A.x(0), pad, A.fv[0])};
    }
    case op_Reverse: return {at::flip(A.x(0), A.counted(0))};
    case op_GatherV2: {
      // ints: axis, batchDims (0 only).
      if (A.i(1) != 0) throw std::runtime_error("GatherV2 with batchDims > 0 is not supported");
      const at::Tensor& x = A.x(0);
      const at::Tensor& idx = A.x(1);
      const int64_t axis = A.i(0) < 0 ? A.i(0) + x.dim() : A.i(0);
      at::Tensor y = at::index_select(x, axis, idx.reshape({-1}).to(at::kLong));
      std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
      shape.insert(shape.end(), idx.sizes().begin(), idx.sizes().end());
      shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
      return {y.reshape(shape)};
    }
    case op_OneHot: {
      // ints: depth, dtype; nums: on, off. Out-of-range indices give a row of `off`, as in tfjs.
      const at::Tensor& idx = A.x(0);
      const int64_t depth = A.i(0);
      const at::ScalarType t = scalar_type(A.i(1));
      if (S.device.is_cpu() && t != at::kBool) {
        // A plain loop: ATen's comparison and where took ~50 µs for a [128, 4] one-hot in Debian's build.
        const at::Tensor ids = idx.to(at::kInt).contiguous();
        std::vector<int64_t> shape(idx.sizes().begin(), idx.sizes().end());
        shape.push_back(depth);
        at::Tensor out = at::full(shape, A.fv[1], opts(t));
        const int32_t* ip = ids.data_ptr<int32_t>();
        const auto fill = [&](auto* op, auto on) {
          for (int64_t r = 0, n = ids.numel(); r < n; r++) {
            if (ip[r] >= 0 && ip[r] < depth) op[r * depth + ip[r]] = on;
          }
        };
        if (t == at::kFloat) fill(out.data_ptr<float>(), static_cast<float>(A.fv[0]));
        else fill(out.data_ptr<int32_t>(), static_cast<int32_t>(A.fv[0]));
        return {out};
      }
      at::Tensor hit = at::eq(idx.unsqueeze(-1).to(at::kLong), at::arange(depth, opts(at::kLong)));
      return {at::where(hit, at::full({}, A.fv[0], opts(t)), at::full({}, A.fv[1], opts(t)))};
    }
    case op_Fill: {
      // ints: dtype, rank, shape; nums: value.
      return {at::full(A.list(2, A.i(1)), A.fv[0], opts(scalar_type(A.i(0))))};
    }
    case op_ZerosLike: return {at::zeros_like(A.x(0))};
    case op_OnesLike: return {at::ones_like(A.x(0))};
    case op_Range: {
      // ints: dtype; nums: start, stop, step.
      at::ScalarType t = scalar_type(A.i(0));
      return {at::arange(A.fv[0], A.fv[1], A.fv[2], opts(at::kDouble)).to(t)};
    }
    case op_Select: return {at::where(A.x(0).to(at::kBool), A.x(1), A.x(2))};
    case op_Cumsum: {
      // ints: axis, exclusive, reverse.
      const int64_t axis = A.i(0);
      at::Tensor x = A.i(2) ? at::flip(A.x(0), {axis}) : A.x(0);
      at::Tensor y = at::cumsum(x, axis);
      if (A.i(1)) y = y - x;
      return {A.i(2) ? at::flip(y, {axis}) : y};
    }
    case op_StridedSlice: {
      // ints: rank, begin[rank], end[rank], strides[rank] (masks resolved in JavaScript; strides > 0 only).
      const int rank = A.i(0);
      at::Tensor y = A.x(0);
      for (int d = 0; d < rank; d++) {
        y = y.slice(d, A.i(1 + d), A.i(1 + rank + d), A.i(1 + 2 * rank + d));
      }
      return {y};
    }
    case op_QttdmLayerNorm: {
      // x [n, d], gamma [d], beta [d]; nums: eps. Outputs y, mean [n, 1], rstd [n, 1].
      const at::Tensor& x = A.x(0);
      auto r = at::native_layer_norm(x, {x.size(-1)}, A.x(1), A.x(2), A.fv[0]);
      return {std::get<0>(r), std::get<1>(r), std::get<2>(r)};
    }
    case op_QttdmLayerNormGrad: {
      // dy, x, mean, rstd, gamma. Outputs dx, dgamma, dbeta.
      const at::Tensor& x = A.x(1);
      // The bias is read only for dbeta's shape and options (1.13 fails on an absent one): gamma has both.
      auto r = at::native_layer_norm_backward(A.x(0), x, {x.size(-1)}, A.x(2), A.x(3), A.x(4), A.x(4), {true, true, true});
      return {std::get<0>(r), std::get<1>(r), std::get<2>(r)};
    }
    case op_QttdmActivationGrad: {
      // dy, y (the activation's output; the pre-activation for gelu); ints: activation (0 relu, 1 leaky_relu,
      // 2 tanh, 3 gelu); nums: leaky slope.
      const at::Tensor& dy = A.x(0);
      const at::Tensor& y = A.x(1);
      switch (A.i(0)) {
        case 0: return {at::threshold_backward(dy, y, 0)};
        case 1: return {at::leaky_relu_backward(dy, y, A.fv[0], true)};
        case 2: return {at::tanh_backward(dy, y)};
        case 3: return {at::gelu_backward(dy, y)};
      }
      throw std::runtime_error("unknown activation code " + std::to_string(A.i(0)));
    }
    case op_QttdmAdam: return adam(A);
    case op_QttdmCachedBlock: return cached_block(A);
    case op_QttdmAttention: return attention(A);
    case op_QttdmAttentionGrad: return attention_grad(A);
    // Exact (erf) GELU in one vectorised pass; the composed form is four kernels.
    case op_QttdmGelu: return {at::gelu(A.x(0))};
    case op_count: break;
  }
  throw std::runtime_error("unknown op");
}

// ---------------------------------------------------------------------------------------------------------
// N-API glue

#define NAPI_CALL(env, call)                                           \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error((env), nullptr, "N-API call failed: " #call);   \
      return nullptr;                                                  \
    }                                                                  \
  } while (0)

napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < want) {
    napi_throw_type_error(env, nullptr, ("expected " + std::to_string(want) + " arguments").c_str());
    return false;
  }
  return true;
}

int32_t int_arg(napi_env env, napi_value v) {
  int32_t r = 0;
  napi_get_value_int32(env, v, &r);
  return r;
}

void* typed_data(napi_env env, napi_value v, size_t* bytes) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok) return nullptr;
  size_t elem = type == napi_float64_array ? 8 : type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array ? 4 : 1;
  *bytes = length * elem;
  return data;
}

template <typename F>
napi_value guarded(napi_env env, const char* what, F f) {
  // No torch autograd here (tfjs's tape does the differentiation): inference mode skips the autograd and
  // view-tracking dispatch of every op.
  c10::InferenceMode no_autograd;
  try {
    return f();
  } catch (const c10::Error& e) {
    napi_throw_error(env, nullptr, (std::string(what) + ": " + e.what_without_backtrace()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string(what) + ": " + e.what()).c_str());
  }
  return nullptr;
}

// init(ints: Int32Array, nums: Float64Array): the argument buffers, kept alive by references.
napi_value Init(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return nullptr;
  size_t ib = 0, nb = 0;
  S.ints = static_cast<int32_t*>(typed_data(env, argv[0], &ib));
  S.nums = static_cast<double*>(typed_data(env, argv[1], &nb));
  if (!S.ints || !S.nums) {
    napi_throw_type_error(env, nullptr, "init expects (Int32Array, Float64Array)");
    return nullptr;
  }
  S.ints_len = ib / 4;
  S.nums_len = nb / 8;
  if (S.ints_ref) napi_delete_reference(env, S.ints_ref);
  if (S.nums_ref) napi_delete_reference(env, S.nums_ref);
  NAPI_CALL(env, napi_create_reference(env, argv[0], 1, &S.ints_ref));
  NAPI_CALL(env, napi_create_reference(env, argv[1], 1, &S.nums_ref));
  return nullptr;
}

// opNames(): the kernel names this build implements, in op-code order.
napi_value OpNames(napi_env env, napi_callback_info) {
  napi_value arr;
  NAPI_CALL(env, napi_create_array_with_length(env, op_count, &arr));
  for (uint32_t k = 0; k < op_count; k++) {
    napi_value s;
    NAPI_CALL(env, napi_create_string_utf8(env, kOpNames[k], NAPI_AUTO_LENGTH, &s));
    NAPI_CALL(env, napi_set_element(env, arr, k, s));
  }
  return arr;
}

void write_outputs(const std::vector<at::Tensor>& outs) {
  size_t k = 1;
  S.ints[0] = static_cast<int32_t>(outs.size());
  for (const at::Tensor& t : outs) {
    if (k + 3 + t.dim() > S.ints_len) throw std::runtime_error("argument buffer too small for the outputs");
    const int32_t id = put(t);
    const at::Tensor& s = S.slots[id];
    S.ints[k++] = id;
    S.ints[k++] = dtype_code(s.scalar_type());
    S.ints[k++] = static_cast<int32_t>(s.dim());
    for (int64_t d : s.sizes()) S.ints[k++] = static_cast<int32_t>(d);
  }
}

// exec(op): runs one kernel with the arguments in the shared buffers (layout at the top of this file).
napi_value Exec(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return nullptr;
  const int32_t op = int_arg(env, argv[0]);
  if (op < 0 || op >= op_count) {
    napi_throw_range_error(env, nullptr, ("unknown op code " + std::to_string(op)).c_str());
    return nullptr;
  }
  return guarded(env, kOpNames[op], [&]() -> napi_value {
    Args a;
    a.n_in = S.ints[0];
    a.in = S.ints + 1;
    a.n_int = S.ints[1 + a.n_in];
    a.iv = S.ints + 2 + a.n_in;
    a.fv = S.nums;
    write_outputs(run(static_cast<Op>(op), a));
    return nullptr;
  });
}

// upload(values: TypedArray, dtype): a tensor of the shape in ints[0] (rank), ints[1..]; returns its slot.
napi_value Upload(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return nullptr;
  return guarded(env, "upload", [&]() -> napi_value {
    size_t bytes = 0;
    void* data = typed_data(env, argv[0], &bytes);
    const at::ScalarType t = scalar_type(int_arg(env, argv[1]));
    std::vector<int64_t> shape(S.ints + 1, S.ints + 1 + S.ints[0]);
    at::Tensor cpu = at::empty(shape, at::TensorOptions().dtype(t));
    if (static_cast<size_t>(cpu.nbytes()) != bytes) {
      throw std::runtime_error("upload: " + std::to_string(bytes) + " bytes of values for " + std::to_string(cpu.nbytes()) + " bytes of tensor");
    }
    if (bytes) std::memcpy(cpu.data_ptr(), data, bytes);
    return number(env, put(S.device.is_cpu() ? cpu : cpu.to(S.device)));
  });
}

// download(slot, out: TypedArray): copies the values out (row-major) into `out`.
napi_value Download(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return nullptr;
  return guarded(env, "download", [&]() -> napi_value {
    at::Tensor t = get(int_arg(env, argv[0])).to(at::kCPU).contiguous();
    size_t bytes = 0;
    void* out = typed_data(env, argv[1], &bytes);
    if (static_cast<size_t>(t.nbytes()) != bytes) {
      throw std::runtime_error("download: " + std::to_string(t.nbytes()) + " bytes into a " + std::to_string(bytes) + "-byte array");
    }
    if (bytes) std::memcpy(out, t.data_ptr(), bytes);
    return nullptr;
  });
}

napi_value Release(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return nullptr;
  return guarded(env, "release", [&]() -> napi_value {
    release(int_arg(env, argv[0]));
    return nullptr;
  });
}

// memory(): [live tensors, bytes held by them].
napi_value Memory(napi_env env, napi_callback_info) {
  napi_value arr;
  NAPI_CALL(env, napi_create_array_with_length(env, 2, &arr));
  NAPI_CALL(env, napi_set_element(env, arr, 0, number(env, static_cast<double>(S.live))));
  NAPI_CALL(env, napi_set_element(env, arr, 1, number(env, static_cast<double>(S.bytes))));
  return arr;
}

// configure(threads, device): torch's intra-op threads (≥ 1) and the device new tensors go to (0 cpu, 1 cuda).
napi_value Configure(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return nullptr;
  return guarded(env, "configure", [&]() -> napi_value {
    const int32_t threads = int_arg(env, argv[0]);
    if (threads >= 1) {
      at::set_num_threads(threads);
      // Debian's libtorch calls whichever libblas.so.3 is installed (BLAS_INFO=generic), and ATen's thread setting
      // does not reach it: OpenBLAS keeps its own pool, one thread per core, which on a shared machine spins.
      using SetThreads = void (*)(int);
      for (const char* name : {"openblas_set_num_threads", "goto_set_num_threads"}) {
        if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, name))) {
          f(threads);
          break;
        }
      }
    }
    const int32_t dev = int_arg(env, argv[1]);
    if (dev == 1 && !at::hasCUDA()) throw std::runtime_error("device cuda requested, but the linked libtorch has no CUDA support or no GPU is visible");
    if (S.live > 0 && (dev == 1) != S.device.is_cuda()) throw std::runtime_error("cannot change device while tensors are live");
    S.device = dev == 1 ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    return nullptr;
  });
}

// info(): {version, cuda, threads, config} of the linked libtorch.
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, v;
  NAPI_CALL(env, napi_create_object(env, &obj));
  NAPI_CALL(env, napi_create_string_utf8(env, TORCH_VERSION, NAPI_AUTO_LENGTH, &v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "version", v));
  NAPI_CALL(env, napi_get_boolean(env, at::hasCUDA(), &v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "cuda", v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "threads", number(env, at::get_num_threads())));
  const std::string config = at::show_config();
  NAPI_CALL(env, napi_create_string_utf8(env, config.c_str(), config.size(), &v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "config", v));
  return obj;
}

napi_value Register(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"init", nullptr, Init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"opNames", nullptr, OpNames, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exec", nullptr, Exec, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upload", nullptr, Upload, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"download", nullptr, Download, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, Release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"memory", nullptr, Memory, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"configure", nullptr, Configure, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Register)
