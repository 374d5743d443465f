/** Neural-network core on tfjs: layers, optimiser, weight I/O. See each module's doc for shapes. */
export * from "./module.js";
export * from "./ops.js";
export * from "./layers.js";
export * from "./optim.js";
export * from "./weights.js";
