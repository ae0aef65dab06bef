// The virtual modules of web/embed-plugin.ts.
declare module 'virtual:gradleak/kernels' {
  /** build/kernels.wasm, base64 */
  const base64: string;
  export default base64;
}
declare module 'virtual:gradleak/mnist-test' {
  /** The first `count` MNIST test images: labels (count bytes) and pixels (count x 784 bytes, zlib-compressed), base64. */
  const subset: { count: number; labels: string; pixels: string };
  export default subset;
}
