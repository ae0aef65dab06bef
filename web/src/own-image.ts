// The user's own image: decoded by the browser, resized to the model input (1x28x28) and turned to grey
// values in [0, 1] (luminance; MNIST digits are light on dark, so dark-on-light images can be inverted).
export async function imageToInput(file: Blob, invert: boolean): Promise<Float64Array> {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = 28;
  canvas.height = 28;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = invert ? '#ffffff' : '#000000'; // transparent parts count as background
  ctx.fillRect(0, 0, 28, 28);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, 28, 28);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, 28, 28);
  const out = new Float64Array(784);
  for (let i = 0; i < 784; i++) {
    const lum = (0.299 * data[4 * i]! + 0.587 * data[4 * i + 1]! + 0.114 * data[4 * i + 2]!) / 255;
    out[i] = invert ? 1 - lum : lum;
  }
  return out;
}
