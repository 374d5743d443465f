/** Shared pieces of the planar runners (Hopper, Walker2d, HalfCheetah): qpos[0] is the x position. */

/**
 * Their observation: qpos (without qpos[0] when `excludeX`) then qvel, with velocities clipped
 * to ±`velocityClip` (Hopper and Walker2d clip at 10; HalfCheetah does not clip: pass Infinity).
 */
export function planarObservation(qpos: Float64Array, qvel: Float64Array, excludeX: boolean, velocityClip: number): Float32Array {
  const from = excludeX ? 1 : 0;
  const obs = new Float32Array(qpos.length - from + qvel.length);
  let k = 0;
  for (let i = from; i < qpos.length; i++) obs[k++] = qpos[i]!;
  for (let i = 0; i < qvel.length; i++) {
    const v = qvel[i]!;
    obs[k++] = v > velocityClip ? velocityClip : v < -velocityClip ? -velocityClip : v;
  }
  return obs;
}
