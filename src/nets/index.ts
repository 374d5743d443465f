/**
 * Neural-network core on tfjs (see each module for shapes and measurements):
 * - module.ts: `Module` (named tf.Variables, seeded init), `ParamMap`, `selectParams`, init specs
 * - ops.ts: fused `dense`/`denseStack`, `layerNorm`, batched `matMul`, `gelu`, `embeddingLookup`,
 *   `huber`, `selectColumns`, `causalMask`, `sumRows`, `splitFlat` — hand-written gradients
 *   that stay on the fast wasm kernels
 * - layers.ts: Dense, Mlp, LayerNorm, CausalSelfAttention, TransformerBlock, Transformer, Embedding,
 *   PositionEmbedding, DuelingHead
 * - optim.ts: Adam/AdamW with global-norm clipping, parameter groups and schedules; `step(lossFn)`
 * - weights.ts: versioned binary weight files (params + optimiser state), copyWeights, polyakUpdate
 */
export * from "./module.js";
export * from "./ops.js";
export * from "./layers.js";
export * from "./optim.js";
export * from "./weights.js";
