/**
 * LunarLander-v3, a port of Gymnasium 1.x `gymnasium/envs/box2d/lunar_lander.py` onto box2d-wasm.
 *
 * Everything Gymnasium computes in Python float64 is computed here in float64 in the same operation
 * order, and everything Box2D stores is float32 on both sides, so the reset data (terrain, initial
 * force, random streams) match Gymnasium bit for bit. Trajectories match only within a tolerance
 * because box2d-wasm is Box2D 2.4.1 while pybox2d is 2.3 (different revolute-limit solver).
 *
 * Hot path: no wasm allocations per step (two scratch b2Vec2s written through the heap), body state
 * read straight from the wasm heap at pointers taken once per reset.
 */
import { z } from "zod";
import { ConfigError, EnvError, show } from "../../core/errors.js";
import { NumpyGenerator } from "../../core/numpy-random.js";
import { box, discrete, type Box, type Discrete } from "../spaces.js";
import type { Action, Env, Info, ResetOptions, ResetResult, StepResult } from "../types.js";
import { loadBox2D, type Box2DModule } from "./loader.js";

const FPS = 50;
const SCALE = 30.0;
const MAIN_ENGINE_POWER = 13.0;
const SIDE_ENGINE_POWER = 0.6;
const INITIAL_RANDOM = 1000.0;
const LANDER_POLY: [number, number][] = [[-14, 17], [-17, 0], [-17, -10], [17, -10], [17, 0], [14, 17]];
const LEG_AWAY = 20;
const LEG_DOWN = 18;
const LEG_W = 2;
const LEG_H = 8;
const LEG_SPRING_TORQUE = 40;
const SIDE_ENGINE_HEIGHT = 14.0;
const SIDE_ENGINE_AWAY = 12.0;
const VIEWPORT_W = 600;
const VIEWPORT_H = 400;
const CHUNKS = 11;
const W = VIEWPORT_W / SCALE;
const H = VIEWPORT_H / SCALE;
const HELIPAD_Y = H / 4;

/** Default seed of an environment reset without ever being given one (Gymnasium would use OS entropy). */
export const DEFAULT_SEED = 0;

export const lunarLanderOptionsSchema = z
  .object({
    continuous: z.boolean().default(false).describe("Box(-1, 1, [2]) throttle actions instead of Discrete(4)"),
    gravity: z.number().gt(-12).lt(0).default(-10).describe("gravitational acceleration, in (-12, 0)"),
    enableWind: z.boolean().default(false).describe("apply Gymnasium's wind force and turbulence torque while airborne"),
    windPower: z.number().min(0).max(20).default(15).describe("maximum wind force, 0..20"),
    turbulencePower: z.number().min(0).max(2).default(1.5).describe("maximum turbulence torque, 0..2"),
  })
  .strict();
export type LunarLanderOptions = z.infer<typeof lunarLanderOptionsSchema>;

/** Validates `makeEnv` options, naming the bad field and the accepted ones. */
export function parseLunarLanderOptions(id: string, options: Record<string, unknown>): LunarLanderOptions {
  const valid = Object.keys(lunarLanderOptionsSchema.shape);
  const unknown = Object.keys(options).filter((k) => !valid.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(`${id}: unknown option ${unknown.map((k) => JSON.stringify(k)).join(", ")}; valid options: ${valid.join(", ")}`);
  }
  const parsed = lunarLanderOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".");
    throw new ConfigError(
      `${id}: option ${field} = ${show(options[field])} is invalid: ${issue.message} (${lunarLanderOptionsSchema.shape[field as keyof LunarLanderOptions]?.description ?? "see docs"})`,
    );
  }
  return parsed.data;
}

/** Gymnasium's v3 observation bounds (x, y, vx, vy, angle, angular velocity, leg contacts). */
const OBS_LOW = [-2.5, -2.5, -10, -10, -2 * Math.PI, -10, 0, 0];
const OBS_HIGH = [2.5, 2.5, 10, 10, 2 * Math.PI, 10, 1, 1];

/** Reset-time quantities exposed for fidelity checks (`env.lastReset`). */
export interface LunarLanderResetData {
  heightRawDraws: Float64Array;
  smoothY: Float64Array;
  chunkX: Float64Array;
  helipadX1: number;
  helipadX2: number;
  helipadY: number;
  initialForce: [number, number];
  windIdx0: number | null;
  torqueIdx0: number | null;
}

/** The Box2D objects of one episode; a fresh world per reset, as Gymnasium 1.x does. */
interface World {
  world: Box2D.b2World;
  moon: Box2D.b2Body;
  lander: Box2D.b2Body;
  legs: [Box2D.b2Body, Box2D.b2Body];
  landerPtr: number;
  legPtrs: [number, number];
  /** Float32 heap indices of lander position and linear velocity. */
  posIdx: number;
  velIdx: number;
}

export class LunarLander implements Env<Action> {
  readonly observationSpace: Box;
  readonly actionSpace: Discrete | Box;
  readonly continuous: boolean;
  /** Terrain, initial force and wind offsets of the last reset. */
  lastReset: LunarLanderResetData | null = null;
  /** The two dispersion draws of the last world step (Gymnasium's `dispersion` before `/ SCALE`). */
  readonly lastDispersion = new Float64Array(2);

  private readonly opts: LunarLanderOptions;
  private rng: NumpyGenerator | null = null;
  private w: World | null = null;
  private closed = false;
  private needsReset = true;
  private gameOver = false;
  private legContact = new Uint8Array(2);
  private prevShaping = 0;
  private hasPrevShaping = false;
  private windIdx = 0;
  private torqueIdx = 0;
  private readonly obs = new Float32Array(8);
  private readonly state = new Float64Array(8);

  // Long-lived wasm objects, freed in close().
  private readonly listener: Box2D.JSContactListener;
  private readonly vecA: Box2D.b2Vec2;
  private readonly vecB: Box2D.b2Vec2;
  private readonly vecAIdx: number;
  private readonly vecBIdx: number;
  private readonly bodyDef: Box2D.b2BodyDef;
  private readonly fixtureDef: Box2D.b2FixtureDef;
  private readonly edge: Box2D.b2EdgeShape;
  private readonly landerShape: Box2D.b2PolygonShape;
  private readonly legShape: Box2D.b2PolygonShape;
  private readonly jointDef: Box2D.b2RevoluteJointDef;

  constructor(
    private readonly B: Box2DModule,
    options: LunarLanderOptions,
    readonly id = "LunarLander-v3",
  ) {
    this.opts = options;
    this.continuous = options.continuous;
    this.observationSpace = box(OBS_LOW, OBS_HIGH, [8]);
    this.actionSpace = options.continuous ? box(-1, 1, [2]) : discrete(4);

    this.vecA = new B.b2Vec2(0, 0);
    this.vecB = new B.b2Vec2(0, 0);
    this.vecAIdx = B.getPointer(this.vecA) >> 2;
    this.vecBIdx = B.getPointer(this.vecB) >> 2;
    this.bodyDef = new B.b2BodyDef();
    this.fixtureDef = new B.b2FixtureDef();
    this.edge = new B.b2EdgeShape();
    this.jointDef = new B.b2RevoluteJointDef();

    this.landerShape = new B.b2PolygonShape();
    const n = LANDER_POLY.length;
    const verts = B._malloc(8 * n);
    for (let i = 0; i < n; i++) {
      B.HEAPF32[(verts >> 2) + 2 * i] = LANDER_POLY[i]![0] / SCALE;
      B.HEAPF32[(verts >> 2) + 2 * i + 1] = LANDER_POLY[i]![1] / SCALE;
    }
    this.landerShape.Set(verts, n);
    B._free(verts);
    this.legShape = new B.b2PolygonShape();
    this.legShape.SetAsBox(LEG_W / SCALE, LEG_H / SCALE);

    this.listener = new B.JSContactListener();
    // Gymnasium's ContactDetector: lander contact ends the game; legs track ground contact.
    this.listener.BeginContact = (contactPtr: number | Box2D.b2Contact) => this.onContact(contactPtr as number, true);
    this.listener.EndContact = (contactPtr: number | Box2D.b2Contact) => this.onContact(contactPtr as number, false);
    this.listener.PreSolve = () => {};
    this.listener.PostSolve = () => {};
  }

  readonly rewardThreshold = 200;

  private onContact(contactPtr: number, begin: boolean): void {
    const w = this.w;
    if (!w) return;
    const B = this.B;
    const contact = B.wrapPointer(contactPtr, B.b2Contact);
    const a = B.getPointer(contact.GetFixtureA().GetBody());
    const b = B.getPointer(contact.GetFixtureB().GetBody());
    // Contacts live in the world's block allocator; drop the cached wrapper so the cache cannot grow.
    delete B.getCache(B.b2Contact)[contactPtr];
    if (begin && (a === w.landerPtr || b === w.landerPtr)) this.gameOver = true;
    for (let i = 0; i < 2; i++) {
      if (a === w.legPtrs[i] || b === w.legPtrs[i]) this.legContact[i] = begin ? 1 : 0;
    }
  }

  reset(opts: ResetOptions = {}): ResetResult {
    this.assertOpen();
    if (opts.options !== undefined && Object.keys(opts.options).length > 0) {
      throw new EnvError(`${this.id}: reset options are not supported, got ${show(opts.options)}`);
    }
    if (opts.seed !== undefined) {
      if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) {
        throw new EnvError(`${this.id}: reset seed must be a non-negative integer, got ${show(opts.seed)}`);
      }
      this.rng = NumpyGenerator.fromSeed(opts.seed);
    } else if (!this.rng) {
      this.rng = NumpyGenerator.fromSeed(DEFAULT_SEED);
    }
    const rng = this.rng;
    const B = this.B;
    this.destroyWorld();

    this.gameOver = false;
    this.hasPrevShaping = false;
    this.legContact.fill(0);

    // Terrain: 12 draws, helipad flattened, smoothed with Python's wrap-around at index -1.
    const height = rng.uniformArray(0, H / 2, CHUNKS + 1);
    const heightRawDraws = height.slice();
    const chunkX = new Float64Array(CHUNKS);
    for (let i = 0; i < CHUNKS; i++) chunkX[i] = (W / (CHUNKS - 1)) * i;
    const helipadX1 = chunkX[(CHUNKS >> 1) - 1]!;
    const helipadX2 = chunkX[(CHUNKS >> 1) + 1]!;
    const helipadY = HELIPAD_Y;
    for (let k = -2; k <= 2; k++) height[(CHUNKS >> 1) + k] = helipadY;
    const smoothY = new Float64Array(CHUNKS);
    for (let i = 0; i < CHUNKS; i++) {
      const prev = i === 0 ? height[CHUNKS]! : height[i - 1]!;
      smoothY[i] = 0.33 * (prev + height[i]! + height[i + 1]!);
    }

    this.setVec(0, 0, this.opts.gravity);
    const world = new B.b2World(this.vecA);
    world.SetContactListener(this.listener);

    // Moon: a static body with the base edge (default fixture: friction 0.2) and 10 terrain edges.
    const bd = this.bodyDef;
    bd.set_type(B.b2_staticBody);
    this.setVec(0, 0, 0);
    bd.set_position(this.vecA);
    bd.set_angle(0);
    const moon = world.CreateBody(bd);
    const fd = this.fixtureDef;
    this.setVec(0, 0, 0);
    this.setVec(1, W, 0);
    this.edge.SetTwoSided(this.vecA, this.vecB);
    this.setFixture(this.edge, 0, 0.2, 0, 0x0001, 0xffff);
    moon.CreateFixture(fd);
    for (let i = 0; i < CHUNKS - 1; i++) {
      this.setVec(0, chunkX[i]!, smoothY[i]!);
      this.setVec(1, chunkX[i + 1]!, smoothY[i + 1]!);
      this.edge.SetTwoSided(this.vecA, this.vecB);
      this.setFixture(this.edge, 0, 0.1, 0, 0x0001, 0xffff);
      moon.CreateFixture(fd);
    }

    // Lander, then its initial random push.
    const initialX = VIEWPORT_W / SCALE / 2;
    const initialY = VIEWPORT_H / SCALE;
    bd.set_type(B.b2_dynamicBody);
    this.setVec(0, initialX, initialY);
    bd.set_position(this.vecA);
    bd.set_angle(0);
    const lander = world.CreateBody(bd);
    this.setFixture(this.landerShape, 5.0, 0.1, 0.0, 0x0010, 0x001);
    lander.CreateFixture(fd);
    const fx = rng.uniform(-INITIAL_RANDOM, INITIAL_RANDOM);
    const fy = rng.uniform(-INITIAL_RANDOM, INITIAL_RANDOM);
    this.setVec(0, fx, fy);
    lander.ApplyForceToCenter(this.vecA, true);

    let windIdx0: number | null = null;
    let torqueIdx0: number | null = null;
    if (this.opts.enableWind) {
      this.windIdx = windIdx0 = rng.integers(-9999, 9999);
      this.torqueIdx = torqueIdx0 = rng.integers(-9999, 9999);
    }

    // Legs on motorised revolute joints with limits (referenceAngle 0, as pybox2d's default).
    const legs: Box2D.b2Body[] = [];
    const jd = this.jointDef;
    for (const i of [-1, 1]) {
      this.setVec(0, initialX - (i * LEG_AWAY) / SCALE, initialY);
      bd.set_position(this.vecA);
      bd.set_angle(i * 0.05);
      const leg = world.CreateBody(bd);
      this.setFixture(this.legShape, 1.0, 0.2, 0.0, 0x0020, 0x001);
      leg.CreateFixture(fd);
      jd.set_bodyA(lander);
      jd.set_bodyB(leg);
      this.setVec(0, 0, 0);
      jd.set_localAnchorA(this.vecA);
      this.setVec(1, (i * LEG_AWAY) / SCALE, LEG_DOWN / SCALE);
      jd.set_localAnchorB(this.vecB);
      jd.set_referenceAngle(0);
      jd.set_enableMotor(true);
      jd.set_enableLimit(true);
      jd.set_maxMotorTorque(LEG_SPRING_TORQUE);
      jd.set_motorSpeed(0.3 * i);
      if (i === -1) {
        jd.set_lowerAngle(0.9 - 0.5);
        jd.set_upperAngle(0.9);
      } else {
        jd.set_lowerAngle(-0.9);
        jd.set_upperAngle(-0.9 + 0.5);
      }
      world.CreateJoint(jd);
      legs.push(leg);
    }

    this.w = {
      world,
      moon,
      lander,
      legs: [legs[0]!, legs[1]!],
      landerPtr: B.getPointer(lander),
      legPtrs: [B.getPointer(legs[0]!), B.getPointer(legs[1]!)],
      posIdx: B.getPointer(lander.GetPosition()) >> 2,
      velIdx: B.getPointer(lander.GetLinearVelocity()) >> 2,
    };
    this.lastReset = {
      heightRawDraws,
      smoothY,
      chunkX,
      helipadX1,
      helipadX2,
      helipadY,
      initialForce: [fx, fy],
      windIdx0,
      torqueIdx0,
    };

    this.needsReset = false;
    this.physicsStep(0, 0, 0);
    return { observation: this.obs.slice(), info: {} };
  }

  step(action: Action): StepResult {
    this.assertOpen();
    if (this.needsReset) {
      throw new EnvError(
        this.w
          ? `${this.id}: step() called after the episode ended (terminated); call reset() first`
          : `${this.id}: step() called before reset()`,
      );
    }
    let reward: number;
    if (this.continuous) {
      const arr = action as unknown as ArrayLike<unknown> | null;
      if (typeof arr !== "object" || arr === null || arr.length !== 2) {
        throw new EnvError(`${this.id}: continuous action must be a Float32Array of length 2, got ${show(action)}`);
      }
      const a0 = arr[0];
      const a1 = arr[1];
      if (typeof a0 !== "number" || typeof a1 !== "number" || Number.isNaN(a0) || Number.isNaN(a1)) {
        throw new EnvError(`${this.id}: continuous action must hold two numbers (not NaN), got [${a0}, ${a1}]`);
      }
      // Gymnasium clips into the box instead of rejecting (np.clip(action, -1, +1)).
      reward = this.physicsStep(-1, Math.min(Math.max(a0, -1), 1), Math.min(Math.max(a1, -1), 1));
    } else {
      if (typeof action !== "number" || !Number.isInteger(action) || action < 0 || action > 3) {
        throw new EnvError(`${this.id}: discrete action must be an integer in 0..3, got ${show(action)}`);
      }
      reward = this.physicsStep(action, 0, 0);
    }
    const terminated = this.needsReset;
    return { observation: this.obs.slice(), reward, terminated, truncated: false, info: {} };
  }

  /**
   * One Gymnasium `step`: wind, engines, world step, observation and reward.
   * `discrete` is the discrete action, or -1 for a continuous (a0, a1) already clipped to [-1, 1].
   * Sets `needsReset` when the episode terminates; returns the reward.
   */
  private physicsStep(discrete: number, a0: number, a1: number): number {
    const w = this.w!;
    const B = this.B;
    const lander = w.lander;
    const rng = this.rng!;

    if (this.opts.enableWind && !(this.legContact[0] || this.legContact[1])) {
      // tanh(sin(2k x) + sin(pi k x)), k = 0.01: never periodic.
      const windMag = Math.tanh(Math.sin(0.02 * this.windIdx) + Math.sin(Math.PI * 0.01 * this.windIdx)) * this.opts.windPower;
      this.windIdx += 1;
      this.setVec(0, windMag, 0.0);
      lander.ApplyForceToCenter(this.vecA, true);
      const torqueMag =
        Math.tanh(Math.sin(0.02 * this.torqueIdx) + Math.sin(Math.PI * 0.01 * this.torqueIdx)) * this.opts.turbulencePower;
      this.torqueIdx += 1;
      lander.ApplyTorque(torqueMag, true);
    }

    let heap = B.HEAPF32;
    const angle = lander.GetAngle();
    const tip0 = Math.sin(angle);
    const tip1 = Math.cos(angle);
    const side0 = -tip1;
    const side1 = tip0;
    const r0 = rng.uniform(-1.0, 1.0);
    const r1 = rng.uniform(-1.0, 1.0);
    this.lastDispersion[0] = r0;
    this.lastDispersion[1] = r1;
    const d0 = r0 / SCALE;
    const d1 = r1 / SCALE;

    let mPower = 0.0;
    if ((discrete < 0 && a0 > 0.0) || discrete === 2) {
      mPower = discrete < 0 ? (Math.min(Math.max(a0, 0.0), 1.0) + 1.0) * 0.5 : 1.0;
      // 4 is a bit below the centre, +-2 for randomness.
      const ox = tip0 * (4 / SCALE + 2 * d0) + side0 * d1;
      const oy = -tip1 * (4 / SCALE + 2 * d0) - side1 * d1;
      this.setVec(1, heap[w.posIdx]! + ox, heap[w.posIdx + 1]! + oy);
      this.setVec(0, -ox * MAIN_ENGINE_POWER * mPower, -oy * MAIN_ENGINE_POWER * mPower);
      lander.ApplyLinearImpulse(this.vecA, this.vecB, true);
    }

    let sPower = 0.0;
    if ((discrete < 0 && Math.abs(a1) > 0.5) || discrete === 1 || discrete === 3) {
      let direction: number;
      if (discrete < 0) {
        direction = Math.sign(a1);
        sPower = Math.min(Math.max(Math.abs(a1), 0.5), 1.0);
      } else {
        direction = discrete - 2;
        sPower = 1.0;
      }
      const ox = tip0 * d0 + side0 * (3 * d1 + (direction * SIDE_ENGINE_AWAY) / SCALE);
      const oy = -tip1 * d0 - side1 * (3 * d1 + (direction * SIDE_ENGINE_AWAY) / SCALE);
      // 17 (not SIDE_ENGINE_HEIGHT) is Gymnasium's constant; it makes the torque angle-dependent.
      this.setVec(1, heap[w.posIdx]! + ox - (tip0 * 17) / SCALE, heap[w.posIdx + 1]! + oy + (tip1 * SIDE_ENGINE_HEIGHT) / SCALE);
      this.setVec(0, -ox * SIDE_ENGINE_POWER * sPower, -oy * SIDE_ENGINE_POWER * sPower);
      lander.ApplyLinearImpulse(this.vecA, this.vecB, true);
    }

    w.world.Step(1.0 / FPS, 6 * 30, 2 * 30);

    heap = B.HEAPF32; // the step may have grown wasm memory
    const s = this.state;
    s[0] = (heap[w.posIdx]! - VIEWPORT_W / SCALE / 2) / (VIEWPORT_W / SCALE / 2);
    s[1] = (heap[w.posIdx + 1]! - (HELIPAD_Y + LEG_DOWN / SCALE)) / (VIEWPORT_H / SCALE / 2);
    s[2] = (heap[w.velIdx]! * (VIEWPORT_W / SCALE / 2)) / FPS;
    s[3] = (heap[w.velIdx + 1]! * (VIEWPORT_H / SCALE / 2)) / FPS;
    s[4] = lander.GetAngle();
    s[5] = (20.0 * lander.GetAngularVelocity()) / FPS;
    s[6] = this.legContact[0]!;
    s[7] = this.legContact[1]!;
    this.obs.set(s);

    const shaping =
      -100 * Math.sqrt(s[0]! * s[0]! + s[1]! * s[1]!) -
      100 * Math.sqrt(s[2]! * s[2]! + s[3]! * s[3]!) -
      100 * Math.abs(s[4]!) +
      10 * s[6]! +
      10 * s[7]!;
    let reward = 0;
    if (this.hasPrevShaping) reward = shaping - this.prevShaping;
    this.prevShaping = shaping;
    this.hasPrevShaping = true;
    reward -= mPower * 0.3;
    reward -= sPower * 0.03;

    let terminated = false;
    if (this.gameOver || Math.abs(s[0]!) >= 1.0) {
      terminated = true;
      reward = -100;
    }
    if (!lander.IsAwake()) {
      terminated = true;
      reward = +100;
    }
    this.needsReset = terminated;
    return reward;
  }

  /** Lander [x, y, vx, vy, angle, angular velocity] as Box2D holds them (float32), for fidelity checks. */
  rawState(): Float64Array {
    const w = this.requireWorld();
    const heap = this.B.HEAPF32;
    return Float64Array.of(
      heap[w.posIdx]!,
      heap[w.posIdx + 1]!,
      heap[w.velIdx]!,
      heap[w.velIdx + 1]!,
      w.lander.GetAngle(),
      w.lander.GetAngularVelocity(),
    );
  }

  /** Terrain edges as Box2D stores them: [[x1, y1], [x2, y2]] per fixture, base edge first. */
  moonEdges(): [[number, number], [number, number]][] {
    const w = this.requireWorld();
    const B = this.B;
    const edges: [[number, number], [number, number]][] = [];
    for (let f = w.moon.GetFixtureList(); B.getPointer(f) !== 0; f = f.GetNext()) {
      const e = B.castObject(f.GetShape(), B.b2EdgeShape);
      const v1 = e.get_m_vertex1();
      const v2 = e.get_m_vertex2();
      edges.push([
        [v1.x, v1.y],
        [v2.x, v2.y],
      ]);
    }
    // Box2D prepends fixtures to the body's list; report them in creation order.
    return edges.reverse();
  }

  /** Legs [x, y, angle] (float32 values from Box2D). */
  legStates(): [number, number, number][] {
    const w = this.requireWorld();
    return w.legs.map((leg) => {
      const p = leg.GetPosition();
      return [p.x, p.y, leg.GetAngle()] as [number, number, number];
    });
  }

  close(): void {
    if (this.closed) return;
    this.destroyWorld();
    const B = this.B;
    for (const obj of [
      this.listener,
      this.vecA,
      this.vecB,
      this.bodyDef,
      this.fixtureDef,
      this.edge,
      this.landerShape,
      this.legShape,
      this.jointDef,
    ]) {
      B.destroy(obj);
    }
    this.closed = true;
  }

  private requireWorld(): World {
    this.assertOpen();
    if (!this.w) throw new EnvError(`${this.id}: no world yet; call reset() first`);
    return this.w;
  }

  private assertOpen(): void {
    if (this.closed) throw new EnvError(`${this.id}: the environment was closed`);
  }

  private setVec(which: 0 | 1, x: number, y: number): void {
    const heap = this.B.HEAPF32;
    const idx = which === 0 ? this.vecAIdx : this.vecBIdx;
    heap[idx] = x;
    heap[idx + 1] = y;
  }

  private setFixture(shape: Box2D.b2Shape, density: number, friction: number, restitution: number, category: number, mask: number): void {
    const fd = this.fixtureDef;
    fd.set_shape(shape);
    fd.set_density(density);
    fd.set_friction(friction);
    fd.set_restitution(restitution);
    const filter = fd.get_filter();
    filter.set_categoryBits(category);
    filter.set_maskBits(mask);
  }

  /** Destroys the episode's world (bodies, fixtures, joints) and drops the JS wrappers Emscripten cached. */
  private destroyWorld(): void {
    const w = this.w;
    if (!w) return;
    this.w = null;
    const B = this.B;
    const bodyCache = B.getCache(B.b2Body);
    const fixtureCache = B.getCache(B.b2Fixture);
    const jointCache = B.getCache(B.b2Joint);
    for (const body of [w.moon, w.lander, ...w.legs]) {
      for (let f = body.GetFixtureList(); B.getPointer(f) !== 0; f = f.GetNext()) delete fixtureCache[B.getPointer(f)];
      delete bodyCache[B.getPointer(body)];
    }
    for (let j = w.world.GetJointList(); B.getPointer(j) !== 0; j = j.GetNext()) delete jointCache[B.getPointer(j)];
    const vecCache = B.getCache(B.b2Vec2);
    delete vecCache[w.posIdx << 2];
    delete vecCache[w.velIdx << 2];
    B.destroy(w.world);
  }
}

/** Builds the environment once box2d-wasm has loaded. */
export async function createLunarLander(id: string, options: Record<string, unknown>): Promise<LunarLander> {
  const opts = parseLunarLanderOptions(id, options);
  const B = await loadBox2D();
  return new LunarLander(B, opts, id);
}

/**
 * Gymnasium's `heuristic(env, s)`: a hand-written controller that lands most episodes.
 * numpy 2 computes it in float32 (the observation's dtype wins over Python floats), so every
 * intermediate is rounded with Math.fround to take the same branches.
 */
export function heuristic(s: ArrayLike<number>, continuous: boolean): number | Float32Array {
  const f = Math.fround;
  let angleTarg = f(f(s[0]! * 0.5) + s[2]!);
  if (angleTarg > f(0.4)) angleTarg = f(0.4);
  if (angleTarg < f(-0.4)) angleTarg = f(-0.4);
  const hoverTarg = f(f(0.55) * Math.abs(s[0]!));
  let angleTodo = f(f(f(angleTarg - s[4]!) * 0.5) - s[5]!);
  let hoverTodo = f(f(f(hoverTarg - s[1]!) * 0.5) - f(s[3]! * 0.5));
  if (s[6] || s[7]) {
    angleTodo = 0;
    hoverTodo = f(-s[3]! * 0.5);
  }
  if (continuous) {
    const a = new Float32Array(2);
    a[0] = Math.min(Math.max(f(f(hoverTodo * 20) - 1), -1), 1);
    a[1] = Math.min(Math.max(f(-angleTodo * 20), -1), 1);
    return a;
  }
  if (hoverTodo > Math.abs(angleTodo) && hoverTodo > f(0.05)) return 2;
  if (angleTodo < f(-0.05)) return 3;
  if (angleTodo > f(0.05)) return 1;
  return 0;
}
