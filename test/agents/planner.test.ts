import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { plannerSchema } from "../../src/agents/qttdm/config.js";
import { MppiPlanner, type Dynamics } from "../../src/agents/planner/mppi.js";
import { ActionBins } from "../../src/agents/qt/bins.js";
import { selectBackend } from "../../src/backend/index.js";
import { Rng } from "../../src/core/rng.js";
import { box, discrete } from "../../src/envs/spaces.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

/**
 * A known model: the state never changes; continuous reward −Σ_k (a_k − target_k)², discrete reward
 * 1 for action 2; action 0 terminates with probability 1.
 */
function knownDynamics(coder: ActionBins, target: number[]): Dynamics {
  return {
    obsDim: 2,
    actionInput: (actions, lead) => tf.tensor(actions, [...lead, coder.dims], coder.discrete ? "int32" : "float32"),
    rollout: (obs0, actions) =>
      tf.tidy(() => {
        const [B, H] = actions.shape as [number, number, number];
        let reward: tf.Tensor2D;
        let termProb: tf.Tensor2D;
        if (coder.discrete) {
          const a = tf.reshape(actions, [B, H]);
          reward = tf.cast(tf.equal(a, 2), "float32") as tf.Tensor2D;
          termProb = tf.cast(tf.equal(a, 0), "float32") as tf.Tensor2D;
        } else {
          reward = tf.neg(tf.sum(tf.square(tf.sub(actions, tf.tensor1d(target))), 2)) as tf.Tensor2D;
          termProb = tf.zeros([B, H]) as tf.Tensor2D;
        }
        const states = tf.tile(tf.reshape(obs0, [B, 1, 2]), [1, H + 1, 1]) as tf.Tensor3D;
        return { reward, termProb, states };
      }),
  };
}

describe("MPPI planner", () => {
  it("finds the best continuous action of a known model, in every env copy", () => {
    const coder = new ActionBins(box(-2, 2, [2]), 11);
    const cfg = plannerSchema.parse({ horizon: 2, iterations: 6, samples: 256, elites: 32, temperature: 5, proposals: 0 });
    const planner = new MppiPlanner(cfg, coder, { tdm: knownDynamics(coder, [0.5, -0.25]), gamma: 0.99, value: (o) => tf.zeros([o.shape[0]]), policy: null });
    const before = tf.memory().numTensors;
    const u = planner.plan(new Float32Array(6), 3, "greedy", new Rng(1)) as Float32Array;
    expect(tf.memory().numTensors).toBe(before);
    expect(u.length).toBe(6);
    for (let c = 0; c < 3; c++) {
      expect(u[c * 2]).toBeCloseTo(0.5, 1);
      expect(u[c * 2 + 1]).toBeCloseTo(-0.25, 1);
    }
    // The warm start is the refitted mean shifted by one step (kept per mode), and survives state()/load().
    const st = planner.state();
    expect(st.greedy!.length).toBe(3 * 2 * 2);
    expect(st.greedy![0]).toBeCloseTo(0.5, 1);
    expect(st.greedy![2]).toBe(0); // appended step
    const again = new MppiPlanner(cfg, coder, planner.models);
    again.load(st);
    expect(again.state()).toEqual(st);
  });

  it("scores QT proposals: a policy that proposes the optimum wins with few samples", () => {
    const coder = new ActionBins(box(-1, 1, [1]), 5);
    const cfg = plannerSchema.parse({ horizon: 2, iterations: 1, samples: 2, elites: 2, proposals: 3, proposalNoise: 0 });
    const policy = (obs: tf.Tensor2D) => new Int32Array(obs.shape[0]).fill(3); // bin 3 = +0.5
    const planner = new MppiPlanner(cfg, coder, { tdm: knownDynamics(coder, [0.5]), gamma: 0.9, value: (o) => tf.zeros([o.shape[0]]), policy });
    const u = planner.plan(new Float32Array(2), 1, "greedy", new Rng(2)) as Float32Array;
    expect(u[0]).toBeCloseTo(0.5, 6);
  });

  it("plans over discrete action sequences, accounting for predicted termination", () => {
    const coder = new ActionBins(discrete(4), 0);
    const cfg = plannerSchema.parse({ horizon: 3, iterations: 4, samples: 64, elites: 8, proposals: 0 });
    const planner = new MppiPlanner(cfg, coder, { tdm: knownDynamics(coder, []), gamma: 0.99, value: (o) => tf.fill([o.shape[0]], 10), policy: null });
    const a = planner.plan(new Float32Array(4), 2, "greedy", new Rng(3)) as Int32Array;
    expect(Array.from(a)).toEqual([2, 2]);
    const explore = planner.plan(new Float32Array(4), 2, "explore", new Rng(4));
    expect(explore).toBeInstanceOf(Int32Array);
  });

  it("computes segment returns G = Σ γ^t A_t r̂_t + γ^H A_H V(ŝ_H)", () => {
    const coder = new ActionBins(discrete(4), 0);
    const cfg = plannerSchema.parse({});
    const policy = (obs: tf.Tensor2D) => new Int32Array(obs.shape[0]).fill(2);
    const planner = new MppiPlanner(cfg, coder, { tdm: knownDynamics(coder, []), gamma: 0.5, value: (o) => tf.fill([o.shape[0]], 8), policy });
    // First action 2 (reward 1), then the policy's 2s: 1 + 0.5 + 0.25 + 0.125·8; first action 0 terminates: G = 0.
    expect(Array.from(planner.segmentReturns(new Float32Array(4), 2, Int32Array.from([2, 0]), 3))).toEqual([2.75, 0]);
  });
});
