// CIFAR-shaped MNIST: a 1x28x28 digit zero-padded by 2 on each side to 32x32 and its grey replicated to three
// channels (3x32x32), as tools/torch_capture.py's mnist() makes it; the stand-in for CIFAR images on a machine
// without CIFAR, so the ResNets (built for 3x32x32) attack real digits.
export const CIFAR_SHAPE: [number, number, number] = [3, 32, 32];

/** [B,1,28,28] digits to [B,3,32,32]. */
export function cifarShaped(digits: Float64Array): Float64Array {
  const B = digits.length / 784;
  if (!Number.isInteger(B)) throw new Error(`cifarShaped: ${digits.length} values is not a batch of 28x28 digits`);
  const out = new Float64Array(B * 3 * 32 * 32);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < 3; c++) {
      for (let h = 0; h < 28; h++) {
        const from = b * 784 + h * 28, to = ((b * 3 + c) * 32 + h + 2) * 32 + 2;
        out.set(digits.subarray(from, from + 28), to);
      }
    }
  }
  return out;
}
