/**
 * A bit-exact port of numpy's default generator, `np.random.default_rng(seed)`:
 * `Generator(PCG64(SeedSequence(seed)))`. Gymnasium seeds its environments with exactly this
 * (`gymnasium.utils.seeding.np_random`), so environments that must reproduce Gymnasium's
 * episodes draw from this class instead of the project's faster `Rng`.
 *
 * The 128-bit PCG state is kept as eight 16-bit limbs in plain numbers: every partial product
 * of the limb multiplication stays below 2^53, so the LCG step needs no BigInt on the hot path.
 */

// SeedSequence constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;
const POOL_SIZE = 4;

const TWO_POW_32 = 4294967296;
const TWO_POW_53_INV = 1 / 9007199254740992;
const MASK_128 = (1n << 128n) - 1n;
const MASK_64 = (1n << 64n) - 1n;

/** PCG64's default multiplier 2549297995355413924 * 2^64 + 4865540595714422341, as 16-bit limbs (low first). */
const PCG_MULT = toLimbs((2549297995355413924n << 64n) + 4865540595714422341n);

/*
 * numpy's 256-level ziggurat for the standard normal (`random_standard_normal` in
 * numpy/random/src/distributions/distributions.c, numpy >= 1.17). The tables are numpy's own
 * (`ziggurat_constants.h`, BSD-3-Clause), read from its compiled generator: bit-exact draws need
 * exactly these doubles. ZIG_KI entries are below 2^52, so they are exact as numbers.
 */
const ZIGGURAT_NOR_R = 3.6541528853610087963519472518;
const ZIGGURAT_NOR_INV_R = 0.27366123732975827203338247596;
/** Ziggurat acceptance bounds on the 52-bit mantissa draw (`ki_double`). */
const ZIG_KI = new Float64Array([
  0x0EF33D8025EF6A, 0x00000000000000, 0x0C08BE98FBC6A8, 0x0DA354FABD8142, 0x0E51F67EC1EEEA,
  0x0EB255E9D3F77E, 0x0EEF4B817ECAB9, 0x0F19470AFA44AA, 0x0F37ED61FFCB18, 0x0F4F469561255C,
  0x0F61A5E41BA396, 0x0F707A755396A4, 0x0F7CB2EC28449A, 0x0F86F10C6357D3, 0x0F8FA6578325DE,
  0x0F9724C74DD0DA, 0x0F9DA907DBF509, 0x0FA360F581FA74, 0x0FA86FDE5B4BF8, 0x0FACF160D354DC,
  0x0FB0FB6718B90F, 0x0FB49F8D5374C6, 0x0FB7EC2366FE77, 0x0FBAECE9A1E50E, 0x0FBDAB9D040BED,
  0x0FC03060FF6C57, 0x0FC2821037A248, 0x0FC4A67AE25BD1, 0x0FC6A2977AEE31, 0x0FC87AA92896A4,
  0x0FCA325E4BDE85, 0x0FCBCCE902231A, 0x0FCD4D12F839C4, 0x0FCEB54D8FEC99, 0x0FD007BF1DC930,
  0x0FD1464DD6C4E6, 0x0FD272A8E2F450, 0x0FD38E4FF0C91E, 0x0FD49A9990B478, 0x0FD598B8920F53,
  0x0FD689C08E99EC, 0x0FD76EA9C8E832, 0x0FD848547B08E8, 0x0FD9178BAD2C8C, 0x0FD9DD07A7ADD2,
  0x0FDA9970105E8C, 0x0FDB4D5DC02E20, 0x0FDBF95C5BFCD0, 0x0FDC9DEBB99A7D, 0x0FDD3B8118729D,
  0x0FDDD288342F90, 0x0FDE6364369F64, 0x0FDEEE708D514E, 0x0FDF7401A6B42E, 0x0FDFF46599ED40,
  0x0FE06FE4BC24F2, 0x0FE0E6C225A258, 0x0FE1593C28B84C, 0x0FE1C78CBC3F99, 0x0FE231E9DB1CAA,
  0x0FE29885DA1B91, 0x0FE2FB8FB54186, 0x0FE35B33558D4A, 0x0FE3B799D0002A, 0x0FE410E99EAD7F,
  0x0FE46746D47734, 0x0FE4BAD34C095C, 0x0FE50BAED29524, 0x0FE559F74EBC78, 0x0FE5A5C8E41212,
  0x0FE5EF3E138689, 0x0FE6366FD91078, 0x0FE67B75C6D578, 0x0FE6BE661E11AA, 0x0FE6FF55E5F4F2,
  0x0FE73E5900A702, 0x0FE77B823E9E39, 0x0FE7B6E37070A2, 0x0FE7F08D774243, 0x0FE8289053F08C,
  0x0FE85EFB35173A, 0x0FE893DC840864, 0x0FE8C741F0CEBC, 0x0FE8F9387D4EF6, 0x0FE929CC879B1D,
  0x0FE95909D388EA, 0x0FE986FB939AA2, 0x0FE9B3AC714866, 0x0FE9DF2694B6D5, 0x0FEA0973ABE67C,
  0x0FEA329CF166A4, 0x0FEA5AAB32952C, 0x0FEA81A6D5741A, 0x0FEAA797DE1CF0, 0x0FEACC85F3D920,
  0x0FEAF07865E63C, 0x0FEB13762FEC13, 0x0FEB3585FE2A4A, 0x0FEB56AE3162B4, 0x0FEB76F4E284FA,
  0x0FEB965FE62014, 0x0FEBB4F4CF9D7C, 0x0FEBD2B8F449D0, 0x0FEBEFB16E2E3E, 0x0FEC0BE31EBDE8,
  0x0FEC2752B15A15, 0x0FEC42049DAFD3, 0x0FEC5BFD29F196, 0x0FEC75406CEEF4, 0x0FEC8DD2500CB4,
  0x0FECA5B6911F12, 0x0FECBCF0C427FE, 0x0FECD38454FB15, 0x0FECE97488C8B3, 0x0FECFEC47F91B7,
  0x0FED1377358528, 0x0FED278F844903, 0x0FED3B10242F4C, 0x0FED4DFBAD586E, 0x0FED605498C3DD,
  0x0FED721D414FE8, 0x0FED8357E4A982, 0x0FED9406A42CC8, 0x0FEDA42B85B704, 0x0FEDB3C8746AB4,
  0x0FEDC2DF416652, 0x0FEDD171A46E52, 0x0FEDDF813C8AD3, 0x0FEDED0F909980, 0x0FEDFA1E0FD414,
  0x0FEE06AE124BC4, 0x0FEE12C0D95A06, 0x0FEE1E579006E0, 0x0FEE29734B6524, 0x0FEE34150AE4BC,
  0x0FEE3E3DB89B3C, 0x0FEE47EE2982F4, 0x0FEE51271DB086, 0x0FEE59E9407F41, 0x0FEE623528B42E,
  0x0FEE6A0B5897F1, 0x0FEE716C3E077A, 0x0FEE7858327B82, 0x0FEE7ECF7B06BA, 0x0FEE84D2484AB2,
  0x0FEE8A60B66343, 0x0FEE8F7ACCC851, 0x0FEE94207E25DA, 0x0FEE9851A829EA, 0x0FEE9C0E13485C,
  0x0FEE9F557273F4, 0x0FEEA22762CCAE, 0x0FEEA4836B42AC, 0x0FEEA668FC2D71, 0x0FEEA7D76ED6FA,
  0x0FEEA8CE04FA0A, 0x0FEEA94BE8333B, 0x0FEEA950296410, 0x0FEEA8D9C0075E, 0x0FEEA7E7897654,
  0x0FEEA678481D24, 0x0FEEA48AA29E83, 0x0FEEA21D22E4DA, 0x0FEE9F2E352024, 0x0FEE9BBC26AF2E,
  0x0FEE97C524F2E4, 0x0FEE93473C0A3A, 0x0FEE8E40557516, 0x0FEE88AE369C7A, 0x0FEE828E7F3DFD,
  0x0FEE7BDEA7B888, 0x0FEE749BFF37FF, 0x0FEE6CC3A9BD5E, 0x0FEE64529E007E, 0x0FEE5B45A32888,
  0x0FEE51994E57B6, 0x0FEE474A0006CF, 0x0FEE3C53E12C50, 0x0FEE30B2E02AD8, 0x0FEE2462AD8205,
  0x0FEE175EB83C5A, 0x0FEE09A22A1447, 0x0FEDFB27E349CC, 0x0FEDEBEA76216C, 0x0FEDDBE422047E,
  0x0FEDCB0ECE39D3, 0x0FEDB964042CF4, 0x0FEDA6DCE938C9, 0x0FED937237E98D, 0x0FED7F1C38A836,
  0x0FED69D2B9C02B, 0x0FED538D06AE00, 0x0FED3C41DEA422, 0x0FED23E76A2FD8, 0x0FED0A732FE644,
  0x0FECEFDA07FE34, 0x0FECD4100EB7B8, 0x0FECB708956EB4, 0x0FEC98B61230C1, 0x0FEC790A0DA978,
  0x0FEC57F50F31FE, 0x0FEC356686C962, 0x0FEC114CB4B335, 0x0FEBEB948E6FD0, 0x0FEBC429A0B692,
  0x0FEB9AF5EE0CDC, 0x0FEB6FE1C98542, 0x0FEB42D3AD1F9E, 0x0FEB13B00B2D4B, 0x0FEAE2591A02E9,
  0x0FEAAEAE992257, 0x0FEA788D8EE326, 0x0FEA3FCFFD73E5, 0x0FEA044C8DD9F6, 0x0FE9C5D62F563B,
  0x0FE9843BA947A4, 0x0FE93F471D4728, 0x0FE8F6BD76C5D6, 0x0FE8AA5DC4E8E6, 0x0FE859E07AB1EA,
  0x0FE804F690A940, 0x0FE7AB488233C0, 0x0FE74C751F6AA5, 0x0FE6E8102AA202, 0x0FE67DA0B6ABD8,
  0x0FE60C9F38307E, 0x0FE5947338F742, 0x0FE51470977280, 0x0FE48BD436F458, 0x0FE3F9BFFD1E37,
  0x0FE35D35EEB19C, 0x0FE2B5122FE4FE, 0x0FE20003995557, 0x0FE13C82788314, 0x0FE068C4EE67B0,
  0x0FDF82B02B71AA, 0x0FDE87C57EFEAA, 0x0FDD7509C63BFD, 0x0FDC46E529BF13, 0x0FDAF8F82E0282,
  0x0FD985E1B2BA75, 0x0FD7E6EF48CF04, 0x0FD613ADBD650B, 0x0FD40149E2F012, 0x0FD1A1A7B4C7AC,
  0x0FCEE204761F9E, 0x0FCBA8D85E11B2, 0x0FC7D26ECD2D22, 0x0FC32B2F1E22ED, 0x0FBD6581C0B83A,
  0x0FB606C4005434, 0x0FAC40582A2874, 0x0F9E971E014598, 0x0F89FA48A41DFC, 0x0F66C5F7F0302C,
  0x0F1A5A4B331C4A,
]);
/** Strip widths scaled by 2^-52 (`wi_double`). */
const ZIG_WI = new Float64Array([
  8.683627060801306e-16, 4.779330175727737e-17, 6.354352417405262e-17, 7.454870481247696e-17,
  8.3293668157931e-17, 9.068060405059482e-17, 9.714860076567762e-17, 1.0294750314241019e-16,
  1.0823430288447684e-16, 1.131147019610903e-16, 1.176635945702292e-16, 1.2193617278714363e-16,
  1.2597439914637093e-16, 1.2981099886264032e-16, 1.3347203736824123e-16, 1.3697864842571203e-16,
  1.4034823001242382e-16, 1.4359529452056943e-16, 1.4673208742364422e-16, 1.4976904668391037e-16,
  1.5271515003596198e-16, 1.5557818169460764e-16, 1.5836494009290885e-16, 1.6108140175274928e-16,
  1.6373285203969853e-16, 1.6632399058420835e-16, 1.6885901708676596e-16, 1.713417017655966e-16,
  1.737754436586486e-16, 1.7616331923000996e-16, 1.7850812316976727e-16, 1.8081240285799152e-16,
  1.830784876482675e-16, 1.853085138861802e-16, 1.8750444639373882e-16, 1.896680970077476e-16,
  1.918011406483862e-16, 1.9390512930625104e-16, 1.9598150426628824e-16, 1.9803160683128174e-16,
  2.000566877627333e-16, 2.0205791562071654e-16, 2.0403638415480212e-16, 2.0599311887403706e-16,
  2.079290829041402e-16, 2.0984518222370352e-16, 2.1174227035760342e-16, 2.1362115259449868e-16,
  2.1548258978581458e-16, 2.1732730177564367e-16, 2.191559705042727e-16, 2.2096924282235318e-16,
  2.2276773304789553e-16, 2.2455202529414355e-16, 2.263226755928568e-16, 2.280802138345017e-16,
  2.2982514554424684e-16, 2.3155795351040804e-16, 2.3327909928004356e-16, 2.3498902453470955e-16,
  2.3668815235791604e-16, 2.3837688840454243e-16, 2.4005562198135063e-16, 2.4172472704675025e-16,
  2.433845631371103e-16, 2.4503547622614954e-16, 2.466777995232705e-16, 2.4831185421610877e-16,
  2.4993795016204524e-16, 2.515563865329658e-16, 2.5316745241713583e-16, 2.547714273816944e-16,
  2.563685819989397e-16, 2.579591783392867e-16, 2.5954347043351707e-16, 2.6112170470670194e-16,
  2.6269412038597256e-16, 2.6426094988411895e-16, 2.658224191608307e-16, 2.6737874806323633e-16,
  2.689301506472616e-16, 2.704768354811995e-16, 2.720190059327732e-16, 2.735568604408679e-16,
  2.7509059277301666e-16, 2.7662039226963903e-16, 2.781464440759544e-16, 2.79668929362423e-16,
  2.8118802553450207e-16, 2.827039064324479e-16, 2.842167425218406e-16, 2.8572670107546015e-16,
  2.87233946347098e-16, 2.887386397378482e-16, 2.9024093995538423e-16, 2.9174100316669455e-16,
  2.9323898314471816e-16, 2.947350314092935e-16, 2.9622929736280665e-16, 2.977219284209029e-16,
  2.992130701386013e-16, 3.007028663321331e-16, 3.0219145919680615e-16, 3.036789894211802e-16,
  3.051655962978219e-16, 3.0665141783089545e-16, 3.081365908408297e-16, 3.0962125106629225e-16,
  3.111055332636893e-16, 3.125895713043999e-16, 3.140734982699446e-16, 3.1555744654528006e-16,
  3.1704154791040285e-16, 3.1852593363044065e-16, 3.2001073454440114e-16, 3.214960811527447e-16,
  3.2298210370394156e-16, 3.244689322801698e-16, 3.2595669688230784e-16, 3.2744552751437067e-16,
  3.2893555426753697e-16, 3.3042690740391284e-16, 3.3191971744017523e-16, 3.3341411523123725e-16,
  3.3491023205407785e-16, 3.364081996918765e-16, 3.37908150518595e-16, 3.394102175841489e-16,
  3.409145347003126e-16, 3.424212365275018e-16, 3.4393045866258313e-16, 3.454423377278584e-16,
  3.4695701146137835e-16, 3.4847461880874137e-16, 3.499953000165381e-16, 3.5151919672760744e-16,
  3.53046452078274e-16, 3.5457721079774357e-16, 3.5611161930983884e-16, 3.5764982583726505e-16,
  3.59191980508603e-16, 3.6073823546823514e-16, 3.6228874498941915e-16, 3.6384366559073444e-16,
  3.65403156156137e-16, 3.669673780588701e-16, 3.685364952894914e-16, 3.7011067458828983e-16,
  3.716900855823823e-16, 3.7327490092779435e-16, 3.7486529645684887e-16, 3.7646145133120287e-16,
  3.7806354820089604e-16, 3.7967177336979443e-16, 3.8128631696783774e-16, 3.829073731305243e-16,
  3.8453514018609596e-16, 3.8616982085091493e-16, 3.878116224335587e-16, 3.894607570481926e-16,
  3.9111744183782054e-16, 3.9278189920805415e-16, 3.944543570720877e-16, 3.9613504910761354e-16,
  3.9782421502646826e-16, 3.995221008578565e-16, 4.012289592460629e-16, 4.029450497636328e-16,
  4.04670639241075e-16, 4.0640600211422504e-16, 4.0815142079049387e-16, 4.0990718603532664e-16,
  4.1167359738030257e-16, 4.134509635544236e-16, 4.1523960294026883e-16, 4.170398440568316e-16,
  4.1885202607101123e-16, 4.206764993399015e-16, 4.2251362598620494e-16, 4.243637805093078e-16,
  4.262273504347798e-16, 4.2810473700531167e-16, 4.2999635591638323e-16, 4.3190263810026294e-16,
  4.338240305622791e-16, 4.357609972736849e-16, 4.3771402012585875e-16, 4.3968359995105214e-16,
  4.4167025761542035e-16, 4.4367453519065673e-16, 4.456969972112043e-16, 4.477382320247534e-16,
  4.49798853244555e-16, 4.518795013130059e-16, 4.539808451870034e-16, 4.561035841567422e-16,
  4.582484498109567e-16, 4.604162081631153e-16, 4.626076619547846e-16, 4.648236531543207e-16,
  4.670650656712631e-16, 4.693328283093329e-16, 4.716279179838351e-16, 4.739513632325867e-16,
  4.763042480533137e-16, 4.786877161048723e-16, 4.811029753147417e-16, 4.835513029411525e-16,
  4.860340511450812e-16, 4.885526531353603e-16, 4.91108629959527e-16, 4.937035980240335e-16,
  4.963392774403987e-16, 4.990175013091822e-16, 5.017402260718089e-16, 5.045095430818727e-16,
  5.073276915733542e-16, 5.101970732341562e-16, 5.131202686306784e-16, 5.161000557743228e-16,
  5.191394311757699e-16, 5.222416338000234e-16, 5.254101724177597e-16, 5.286488569504945e-16,
  5.3196183453384e-16, 5.353536311816497e-16, 5.388292001334053e-16, 5.423939782201712e-16,
  5.46053951907478e-16, 5.498157350892814e-16, 5.536866612467876e-16, 5.576748932926576e-16,
  5.617895553555417e-16, 5.660408920082422e-16, 5.704404621291389e-16, 5.750013768919895e-16,
  5.797385945724594e-16, 5.846692893455479e-16, 5.898133176477899e-16, 5.951938149641444e-16,
  6.008379696271908e-16, 6.067780409333449e-16, 6.130527208725282e-16, 6.197089894581626e-16,
  6.268046963301284e-16, 6.344122407127506e-16, 6.426239659548055e-16, 6.515603317344994e-16,
  6.613827885097664e-16, 6.723150462505587e-16, 6.846803417564259e-16, 6.98971833638762e-16,
  7.159994934830664e-16, 7.372424301798799e-16, 7.658936370805573e-16, 8.113849337656484e-16,
]);
/** Density at the strip edges (`fi_double`). */
const ZIG_FI = new Float64Array([
  1.0, 0.9771017012676716, 0.9598790918001067, 0.9451989534422996,
  0.9320600759592305, 0.919991505039347, 0.9087264400521309, 0.8980959218983434,
  0.8879846607558334, 0.8783096558089174, 0.869008688036857, 0.8600336211963315,
  0.851346258458678, 0.8429156531122042, 0.8347162929868834, 0.8267268339462214,
  0.8189291916037024, 0.8113078743126563, 0.8038494831709643, 0.796542330422959,
  0.7893761435660246, 0.7823418326548025, 0.7754313049811872, 0.7686373157984863,
  0.7619533468367954, 0.7553735065070961, 0.7488924472191568, 0.742505296340151,
  0.7362075981268627, 0.7299952645614762, 0.7238645334686302, 0.717811932630722,
  0.7118342488782484, 0.7059285013327543, 0.7000919181365116, 0.6943219161261167,
  0.6886160830046718, 0.6829721616449949, 0.6773880362187735, 0.6718617198970821,
  0.6663913439087501, 0.6609751477766631, 0.6556114705796973, 0.6502987431108167,
  0.6450354808208223, 0.6398202774530566, 0.6346517992876236, 0.6295287799248367,
  0.6244500155470265, 0.6194143606058343, 0.6144207238889139, 0.6094680649257734,
  0.6045553906974678, 0.5996817526191253, 0.5948462437679874, 0.590047996332826,
  0.5852861792633715, 0.5805599961007909, 0.5758686829723537, 0.5712115067352532,
  0.5665877632561644, 0.5619967758145243, 0.557437893618766, 0.5529104904258323,
  0.5484139632552658, 0.5439477311900263, 0.5395112342569521, 0.5351039323804576,
  0.5307253044036621, 0.5263748471716845, 0.5220520746723218, 0.5177565172297564,
  0.513487720747327, 0.5092452459957479, 0.5050286679434681, 0.5008375751261487,
  0.4966715690524897, 0.49253026364386854, 0.48841328470545803, 0.4843202694266833,
  0.48025086590904675, 0.47620473271950586, 0.4721815384677302, 0.4681809614056936,
  0.46420268904817436, 0.46024641781284287, 0.45631185267871643, 0.4523987068618485,
  0.44850670150720306, 0.4446355653957394, 0.440785034665804, 0.43695485254798555,
  0.43314476911265226, 0.4293545410294414, 0.42558393133802197, 0.4218327092294959,
  0.4181006498378482, 0.4143875340408911, 0.41069314827018816, 0.40701728432947337,
  0.4033597392211145, 0.3997203149801972, 0.39609881851583245, 0.3924950614593156,
  0.3889088600187887, 0.3853400348400773, 0.38178841087339366, 0.3782538172456192,
  0.37473608713789114, 0.3712350576682395, 0.3677505697790326, 0.36428246812900406,
  0.36083060098964803, 0.3573948201457805, 0.3539749808000768, 0.3505709414814061,
  0.34718256395679364, 0.3438097131468507, 0.34045225704452187, 0.33711006663700605,
  0.33378301583071845, 0.3304709813791636, 0.3271738428136014, 0.3238914823763911,
  0.32062378495690536, 0.3173706380299136, 0.3141319315963372, 0.3109075581262865,
  0.30769741250429206, 0.30450139197665, 0.30131939610080305, 0.2981513266966855,
  0.2949970877999618, 0.2918565856170952, 0.2887297284821829, 0.28561642681550176,
  0.2825165930837076, 0.27943014176163794, 0.2763569892956683, 0.27329705406857707,
  0.27025025636587546, 0.26721651834356147, 0.2641957639972612, 0.2611879191327212,
  0.25819291133761924, 0.25521066995466196, 0.2522411260559422, 0.24928421241852852,
  0.24633986350126383, 0.2434080154227503, 0.2404886059405006, 0.2375815744312381,
  0.23468686187233, 0.23180441082433872, 0.22893416541468034, 0.22607607132238028,
  0.22323007576391748, 0.220396127480152, 0.21757417672433113, 0.21476417525117358,
  0.21196607630703018, 0.20917983462112508, 0.2064054063978808, 0.2036427493103349,
  0.2008918224946566, 0.19815258654577514, 0.1954250035141343, 0.19270903690358918,
  0.19000465167046499, 0.1873118142238003, 0.18463049242679927, 0.18196065559952251,
  0.17930227452284758, 0.17665532144373486, 0.17401977008183855, 0.17139559563750575,
  0.1687827748012113, 0.1661812857644819, 0.16359110823236558, 0.161012223437511,
  0.15844461415592428, 0.1558882647244792, 0.15334316106026286, 0.15080929068184568,
  0.14828664273257455, 0.14577520800599403, 0.14327497897351346, 0.1407859498144447,
  0.13830811644855073, 0.13584147657125376, 0.13338602969166916, 0.13094177717364436,
  0.12850872227999957, 0.1260868702201859, 0.12367622820159657, 0.1212768054847903,
  0.11888861344291006, 0.11651166562561087, 0.11414597782783849, 0.11179156816383809,
  0.1094484571468118, 0.1071166677746838, 0.10479622562248707, 0.10248715894193525,
  0.10018949876881002, 0.09790327903886246, 0.095628536713009, 0.09336531191269101,
  0.09111364806637376, 0.08887359206827589, 0.08664519445055807, 0.08442850957035347,
  0.0822235958132029, 0.08003051581466307, 0.07784933670209612, 0.07568013035892718,
  0.07352297371398132, 0.0713779490588904, 0.06924514439700676, 0.0671246538277885,
  0.0650165779712429, 0.06292102443775814, 0.06083810834953988, 0.05876795292093374,
  0.0567106901062029, 0.05466646132488892, 0.05263541827679219, 0.05061772386094778,
  0.04861355321586854, 0.04662309490193038, 0.044646552251294463, 0.04268414491647446,
  0.04073611065594094, 0.03880270740452615, 0.036884215688567305, 0.034980941461716125,
  0.03309321945857858, 0.0312214171919203, 0.02936593975813336, 0.027527235669603113,
  0.02570580400854891, 0.02390220330579588, 0.02211706270730885, 0.02035109623004451,
  0.018605121275724622, 0.016880083152543142, 0.01517708830793531, 0.013497450601739867,
  0.011842757857907879, 0.010214971439701459, 0.008616582769398726, 0.007050875471373222,
  0.0055224032992509916, 0.0040379725933630236, 0.0026090727461021593, 0.001260285930498598,
]);

/** Serialisable generator state (plain JSON; 128-bit words as decimal strings). */
export interface NumpyGeneratorState {
  bitGenerator: "PCG64";
  state: string;
  inc: string;
  /** numpy's buffered half of a uint64 for 32-bit draws (`has_uint32` / `uinteger`). */
  hasUint32: boolean;
  uinteger: number;
}

function u32(x: number): number {
  return x >>> 0;
}

function hashmix(value: number, hashConst: { v: number }): number {
  value = u32(value ^ hashConst.v);
  hashConst.v = u32(Math.imul(hashConst.v, MULT_A));
  value = u32(Math.imul(value, hashConst.v));
  return u32(value ^ (value >>> XSHIFT));
}

function mix(x: number, y: number): number {
  const r = u32(Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y));
  return u32(r ^ (r >>> XSHIFT));
}

/** numpy's `_int_to_uint32_array`: little-endian 32-bit words of a non-negative integer ([0] for 0). */
function entropyWords(seed: number): number[] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`numpy seed must be a non-negative safe integer, got ${seed}`);
  }
  const words: number[] = [];
  let n = seed;
  if (n === 0) words.push(0);
  while (n > 0) {
    words.push(n % TWO_POW_32);
    n = Math.floor(n / TWO_POW_32);
  }
  return words;
}

/** `SeedSequence(seed).pool`: the four mixed entropy words. */
export function seedSequencePool(seed: number): Uint32Array {
  const entropy = entropyWords(seed);
  const pool = new Uint32Array(POOL_SIZE);
  const hc = { v: INIT_A };
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < entropy.length ? entropy[i]! : 0, hc);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!, hc));
    }
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!, hc));
  }
  return pool;
}

/** `SeedSequence(seed).generate_state(nWords, np.uint32)`. */
export function seedSequenceGenerateState(seed: number, nWords: number): Uint32Array {
  const pool = seedSequencePool(seed);
  const out = new Uint32Array(nWords);
  let hashConst = INIT_B;
  for (let i = 0; i < nWords; i++) {
    let v = u32(pool[i % POOL_SIZE]! ^ hashConst);
    hashConst = u32(Math.imul(hashConst, MULT_B));
    v = u32(Math.imul(v, hashConst));
    out[i] = u32(v ^ (v >>> XSHIFT));
  }
  return out;
}

function toLimbs(x: bigint): number[] {
  const limbs: number[] = [];
  for (let i = 0; i < 8; i++) limbs.push(Number((x >> BigInt(16 * i)) & 0xffffn));
  return limbs;
}

function fromLimbs(limbs: ArrayLike<number>): bigint {
  let x = 0n;
  for (let i = 7; i >= 0; i--) x = (x << 16n) | BigInt(limbs[i]!);
  return x;
}

export class NumpyGenerator {
  /** 128-bit LCG state and increment, 16-bit limbs, least significant first. */
  private readonly s = new Float64Array(8);
  private readonly inc = new Float64Array(8);
  private readonly tmp = new Float64Array(8);
  private hasUint32 = false;
  private uinteger = 0;
  /** The two 32-bit halves of the last 64-bit output (set by `next64`). */
  private outHi = 0;
  private outLo = 0;

  private constructor() {}

  /** `np.random.default_rng(seed)` (= Gymnasium's `np_random(seed)`). */
  static fromSeed(seed: number): NumpyGenerator {
    const w = seedSequenceGenerateState(seed, 8);
    // generate_state(4, uint64) views the 8 uint32 words as little-endian uint64 pairs.
    const word64 = (i: number) => (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);
    // pcg64_set_seed: initstate = (val[0] << 64) | val[1], initseq = (val[2] << 64) | val[3].
    const initState = (word64(0) << 64n) | word64(1);
    const initSeq = (word64(2) << 64n) | word64(3);
    const g = new NumpyGenerator();
    // pcg_setseq_128_srandom_r: state = 0; inc = initseq << 1 | 1; step; state += initstate; step.
    g.setLimbs(g.inc, ((initSeq << 1n) | 1n) & MASK_128);
    g.setLimbs(g.s, 0n);
    g.step();
    g.setLimbs(g.s, (fromLimbs(g.s) + initState) & MASK_128);
    g.step();
    return g;
  }

  static fromState(state: NumpyGeneratorState): NumpyGenerator {
    const g = new NumpyGenerator();
    g.setState(state);
    return g;
  }

  private setLimbs(target: Float64Array, x: bigint): void {
    const limbs = toLimbs(x);
    for (let i = 0; i < 8; i++) target[i] = limbs[i]!;
  }

  /** state = state * MULT + inc (mod 2^128). */
  private step(): void {
    const s = this.s;
    const t = this.tmp;
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      let acc = carry + this.inc[k]!;
      for (let i = 0; i <= k; i++) acc += s[i]! * PCG_MULT[k - i]!;
      carry = Math.floor(acc / 65536);
      t[k] = acc - carry * 65536;
    }
    s.set(t);
  }

  /** Advances and leaves the XSL-RR output in outHi/outLo. */
  private next64(): void {
    this.step();
    const s = this.s;
    // XSL: high 64 bits xor low 64 bits.
    let lo = u32((s[0]! | (s[1]! << 16)) ^ (s[4]! | (s[5]! << 16)));
    let hi = u32((s[2]! | (s[3]! << 16)) ^ (s[6]! | (s[7]! << 16)));
    // RR: rotate right by the top 6 bits of the state.
    let rot = s[7]! >>> 10;
    if (rot >= 32) {
      const x = lo;
      lo = hi;
      hi = x;
      rot -= 32;
    }
    if (rot > 0) {
      const nlo = u32((lo >>> rot) | (hi << (32 - rot)));
      hi = u32((hi >>> rot) | (lo << (32 - rot)));
      lo = nlo;
    }
    this.outHi = hi;
    this.outLo = lo;
  }

  /** Next raw 64-bit output (`bit_generator.random_raw()`). */
  nextUint64(): bigint {
    this.next64();
    return (BigInt(this.outHi) << 32n) | BigInt(this.outLo);
  }

  /** numpy's buffered `next_uint32`: low half of a fresh uint64 first, its high half on the next call. */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    this.next64();
    this.hasUint32 = true;
    this.uinteger = this.outHi;
    return this.outLo;
  }

  /** Uniform double in [0, 1): `(next_uint64 >> 11) * 2^-53`. */
  random(): number {
    this.next64();
    return (this.outHi * 2097152 + (this.outLo >>> 11)) * TWO_POW_53_INV;
  }

  /** `Generator.uniform(low, high)` for scalars: `low + (high - low) * random()`. */
  uniform(low = 0, high = 1): number {
    const range = high - low;
    if (!Number.isFinite(range)) throw new RangeError(`uniform: high - low must be finite, got low=${low}, high=${high}`);
    return low + range * this.random();
  }

  /** `Generator.uniform(low, high, size=n)`. */
  uniformArray(low: number, high: number, n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /**
   * `Generator.standard_normal()`, bit for bit: one 64-bit draw gives the strip (low 8 bits), the
   * sign (bit 8) and a 52-bit position (bits 9..60); about 99.3% of draws return at once, the rest
   * go through the wedge test or, in strip 0, the tail algorithm (both draw further doubles).
   * Math.exp/Math.log1p are used where numpy calls the C library's; they are accurate to below an
   * ulp, and the reference tests over a million draws find no difference.
   */
  standardNormal(): number {
    for (;;) {
      this.next64();
      const hi = this.outHi;
      const lo = this.outLo;
      const idx = lo & 0xff;
      // (r >> 9) & (2^52 − 1): bits 9..31 of the low word, bits 0..28 of the high word; exact in a double.
      const rabs = (hi & 0x1fffffff) * 8388608 + (lo >>> 9);
      const mag = rabs * ZIG_WI[idx]!;
      const x = lo & 0x100 ? -mag : mag;
      if (rabs < ZIG_KI[idx]!) return x;
      if (idx === 0) {
        for (;;) {
          const xx = -ZIGGURAT_NOR_INV_R * Math.log1p(-this.random());
          const yy = -Math.log1p(-this.random());
          // numpy's sign here is bit 8 of rabs, i.e. bit 17 of the low word.
          if (yy + yy > xx * xx) return (lo >>> 17) & 1 ? -(ZIGGURAT_NOR_R + xx) : ZIGGURAT_NOR_R + xx;
        }
      }
      if ((ZIG_FI[idx - 1]! - ZIG_FI[idx]!) * this.random() + ZIG_FI[idx]! < Math.exp(-0.5 * x * x)) return x;
    }
  }

  /** `Generator.normal(loc, scale, size=n)`: `loc + scale * standard_normal()` per element, as numpy computes it. */
  normalArray(loc: number, scale: number, n: number): Float64Array {
    if (!(scale >= 0)) throw new RangeError(`normalArray: scale must be >= 0 (numpy raises for a negative scale), got ${scale}`);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`normalArray: n must be a non-negative integer, got ${n}`);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = loc + scale * this.standardNormal();
    return out;
  }

  /**
   * `Generator.integers(low, high)` (int64, high exclusive), drawing exactly as numpy does:
   * ranges below 2^32 use Lemire's method on the buffered 32-bit stream, larger ones on 64-bit draws.
   */
  integers(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
      throw new RangeError(`integers(low, high) needs safe integers with high > low, got low=${low}, high=${high}`);
    }
    const rng = high - 1 - low; // numpy's inclusive range
    if (rng === 0) return low;
    if (rng < 0xffffffff) return low + this.lemire32(rng);
    if (rng === 0xffffffff) return low + this.nextUint32();
    return low + Number(this.lemire64(BigInt(rng)));
  }

  private lemire32(rng: number): number {
    const rngExcl = rng + 1;
    let [mHi, leftover] = mul32(this.nextUint32(), rngExcl);
    if (leftover < rngExcl) {
      const threshold = (0xffffffff - rng) % rngExcl;
      while (leftover < threshold) [mHi, leftover] = mul32(this.nextUint32(), rngExcl);
    }
    return mHi;
  }

  private lemire64(rng: bigint): bigint {
    const rngExcl = rng + 1n;
    let m = this.nextUint64() * rngExcl;
    let leftover = m & MASK_64;
    if (leftover < rngExcl) {
      const threshold = (MASK_64 - rng) % rngExcl;
      while (leftover < threshold) {
        m = this.nextUint64() * rngExcl;
        leftover = m & MASK_64;
      }
    }
    return m >> 64n;
  }

  state(): NumpyGeneratorState {
    return {
      bitGenerator: "PCG64",
      state: fromLimbs(this.s).toString(),
      inc: fromLimbs(this.inc).toString(),
      hasUint32: this.hasUint32,
      uinteger: this.uinteger,
    };
  }

  setState(state: NumpyGeneratorState): void {
    const parse = (v: unknown, name: string): bigint => {
      if (typeof v !== "string" || !/^\d+$/.test(v) || BigInt(v) > MASK_128) {
        throw new RangeError(`NumpyGenerator state.${name} must be a decimal 128-bit unsigned integer string, got ${JSON.stringify(v)}`);
      }
      return BigInt(v);
    };
    if (state?.bitGenerator !== "PCG64") {
      throw new RangeError(`NumpyGenerator state.bitGenerator must be "PCG64", got ${JSON.stringify(state?.bitGenerator)}`);
    }
    const s = parse(state.state, "state");
    const inc = parse(state.inc, "inc");
    if ((inc & 1n) === 0n) throw new RangeError(`NumpyGenerator state.inc must be odd, got ${state.inc}`);
    if (typeof state.hasUint32 !== "boolean" || !Number.isInteger(state.uinteger) || state.uinteger < 0 || state.uinteger >= TWO_POW_32) {
      throw new RangeError(`NumpyGenerator state needs hasUint32: boolean and uinteger: uint32, got ${JSON.stringify(state)}`);
    }
    this.setLimbs(this.s, s);
    this.setLimbs(this.inc, inc);
    this.hasUint32 = state.hasUint32;
    this.uinteger = state.uinteger;
  }
}

/** Exact 32x32 → 64-bit product as [high 32 bits, low 32 bits]. */
function mul32(a: number, b: number): [number, number] {
  const aHi = a >>> 16;
  const aLo = a & 0xffff;
  const lowPart = aLo * b; // < 2^48, exact
  const highPart = aHi * b; // < 2^48, exact; weight 2^16
  const lowWord = lowPart % TWO_POW_32;
  // total = highPart * 2^16 + lowPart; split without exceeding 2^53.
  const mid = (highPart % 65536) * 65536 + lowWord; // < 2^33
  const lo = mid % TWO_POW_32;
  const hi = Math.floor(highPart / 65536) + Math.floor(lowPart / TWO_POW_32) + Math.floor(mid / TWO_POW_32);
  return [hi, lo];
}
