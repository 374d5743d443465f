import { describe, expect, it } from "vitest";
import { SlidingWindowUcb } from "../../src/replay/bandit.js";

const ARMS = [
  { alpha: 0.7, beta: 0 },
  { alpha: 0.4, beta: 0.5 },
  { alpha: 0.1, beta: 1 },
];

/** Plays `pulls` rounds, the reward of arm k being reward(k, round). */
function play(b: SlidingWindowUcb, pulls: number, reward: (arm: number, round: number) => number): number[] {
  const chosen: number[] = [];
  for (let t = 0; t < pulls; t++) {
    chosen.push(b.currentIndex);
    b.observe(reward(b.currentIndex, t));
  }
  return chosen;
}

describe("SlidingWindowUcb", () => {
  it("tries every arm once in order, then plays the best one most", () => {
    const b = new SlidingWindowUcb(ARMS, 30, 0.5);
    const chosen = play(b, 60, (k) => [0.1, 1, 0.3][k]!);
    expect(chosen.slice(0, 3)).toEqual([0, 1, 2]);
    expect(chosen.slice(3).filter((k) => k === 1).length).toBeGreaterThan(40);
  });

  it("forgets outside its window: when the best arm changes, it moves to the new best", () => {
    const b = new SlidingWindowUcb(ARMS, 10, 0.5);
    const reward = (k: number, t: number) => (t < 40 ? [1, 0, 0] : [0, 0, 1])[k]!;
    const chosen = play(b, 80, reward);
    expect(chosen.slice(30, 40).filter((k) => k === 0).length).toBeGreaterThan(6);
    expect(chosen.slice(65).filter((k) => k === 2).length).toBeGreaterThan(10);
  });

  it("is scale-free: multiplying every reward by 1000 makes the same choices", () => {
    const reward = (k: number, t: number) => Math.sin(3 * k + t) + (k === 2 ? 0.5 : 0);
    const a = play(new SlidingWindowUcb(ARMS, 15, 1), 50, reward);
    const b = play(new SlidingWindowUcb(ARMS, 15, 1), 50, (k, t) => 1000 * reward(k, t));
    expect(b).toEqual(a);
  });

  it("continues exactly from its saved state, and refuses a state of another arm grid", () => {
    const reward = (k: number, t: number) => Math.cos(k * t);
    const whole = new SlidingWindowUcb(ARMS, 8, 1);
    const expected = play(whole, 40, reward);
    const first = new SlidingWindowUcb(ARMS, 8, 1);
    const head = play(first, 25, reward);
    const second = new SlidingWindowUcb(ARMS, 8, 1);
    second.loadState(JSON.parse(JSON.stringify(first.saveState())));
    const tail: number[] = [];
    for (let t = 25; t < 40; t++) {
      tail.push(second.currentIndex);
      second.observe(reward(second.currentIndex, t));
    }
    expect([...head, ...tail]).toEqual(expected);
    expect(() => new SlidingWindowUcb(ARMS.slice(0, 2), 8, 1).loadState(first.saveState())).toThrow(/does not fit 2 arms/);
  });
});
