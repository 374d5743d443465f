/** Activations an exported dense or normed layer may carry (nets/ops.ts's, by the same names). */
export type DenseSpecActivation = "linear" | "relu" | "leaky_relu" | "gelu" | "tanh";
