// The ONNX importer lives in models/onnx/ (one file per op family); this keeps the callers' import path.
export { importOnnx, importOnnxGraph, readOnnxGraph, readOnnxModel } from './onnx/index.js';
export type { OnnxGraph, OnnxModel, OnnxTensors } from './onnx/index.js';
