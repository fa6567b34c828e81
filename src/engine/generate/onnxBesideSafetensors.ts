/**
 * An ONNX graph for a model folder that references the folder's own model.safetensors instead of
 * copying its weights, so `@huggingface/transformers` (transformers.js) loads the folder as is at
 * the cost of a graph (0.19 MB for the starter), not a second copy of the weights.
 *
 * Files: `model.onnx` beside model.safetensors, its initializers ONNX external-data references
 * (location `model.safetensors`, offset, length) to the tensors in their Hugging Face layout and
 * dtype; the graph Casts them to float32 and Transposes the linear weights (onnxruntime folds both
 * into constants when the session is created). `onnx` is a symlink to `.`, because transformers.js
 * reads `onnx/model.onnx` and onnxruntime (1.30) refuses external data outside the model file's
 * own folder, symlinks resolved: `onnx/model.onnx_data -> ../model.safetensors` and a location of
 * `../model.safetensors` both fail with "External data path escapes model directory", while
 * through `onnx -> .` the model's folder is the folder that holds model.safetensors.
 * config.json gets `transformers.js_config.dtype = "fp32"` so every device picks model.onnx.
 */
import { existsSync, lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { SafetensorsReader } from '../formats/safetensors';
import { loadModel } from '../models';
import { attr, Tensor, type DType, type Graph } from '../onnx/builder';
import { ONNX_DTYPE } from '../onnx/proto';
import { buildInferenceGraph } from './inferenceGraph';

const WEIGHTS = 'model.safetensors';
const DTYPES: Record<string, DType> = { F16: 'float16', F32: 'float32' };
/** Inline initializers allowed (rotary tables, small constants): more means a weight was copied. */
const INLINE_LIMIT_BYTES = 1024 * 1024;

export interface OnnxBesideResult {
  /** Paths written, relative to the folder. */
  files: string[];
  /** Size of model.onnx in bytes. */
  graphBytes: number;
  /** Initializers referenced in model.safetensors. */
  referenced: number;
}

export function writeOnnxBesideSafetensors(modelDir: string): OnnxBesideResult {
  const weightsFile = join(modelDir, WEIGHTS);
  if (!existsSync(weightsFile))
    throw new UserError(
      `${weightsFile}: missing; the graph references the weights of a single model.safetensors`,
    );
  const model = loadModel(modelDir);
  let reader: SafetensorsReader | undefined;
  let referenced: number;
  try {
    const { graph } = buildInferenceGraph(model);
    reader = SafetensorsReader.open(weightsFile);
    referenced = referenceWeights(graph, reader);
    graph.save(join(modelDir, 'model.onnx'), Infinity);
  } finally {
    reader?.close();
    model.weights.close();
  }
  const link = join(modelDir, 'onnx');
  if (existsSync(link) || isSymlink(link)) {
    if (!isSymlink(link))
      throw new UserError(`${link}: a folder; remove it (this folder's onnx/ is a symlink to itself)`);
    rmSync(link);
  }
  symlinkSync('.', link, 'dir');

  const configFile = join(modelDir, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  const jsConfig = { ...((config['transformers.js_config'] as object | undefined) ?? {}), dtype: 'fp32' };
  writeFileSync(
    configFile,
    JSON.stringify({ ...config, 'transformers.js_config': jsConfig }, null, 2) + '\n',
  );
  return {
    files: ['model.onnx', 'onnx', 'config.json'],
    graphBytes: readFileSync(join(modelDir, 'model.onnx')).byteLength,
    referenced,
  };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Replaces each float32 weight initializer by a reference to the same tensor in the safetensors
 * file: `name` (HF layout) becomes Cast(ref), `name_t` (a linear weight stored transposed, see
 * ModelParams.linear) becomes Transpose(Cast(ref)). Returns how many were replaced.
 */
function referenceWeights(g: Graph, reader: SafetensorsReader): number {
  const prologue: Graph['nodes'] = [];
  let replaced = 0;
  let inlineBytes = 0;
  for (const [name, init] of [...g.initializers]) {
    const transposed = !reader.has(name) && name.endsWith('_t') && reader.has(name.slice(0, -2));
    const source = transposed ? name.slice(0, -2) : name;
    if (!reader.has(source)) {
      inlineBytes += init.data.byteLength;
      continue;
    }
    const info = reader.info(source);
    const dtype = DTYPES[info.dtype];
    const want = transposed ? [...init.tensor.shape].reverse() : init.tensor.shape;
    if (!dtype || init.tensor.dtype !== 'float32' || info.shape.join() !== want.join())
      throw new UserError(
        `${reader.path}: ${source} is ${info.dtype} [${info.shape}]; the graph needs float16 or float32 [${want}]`,
      );
    g.initializers.delete(name);
    const ref = g.externalInitializer(`${source}.stored`, dtype, info.shape, {
      location: WEIGHTS,
      offset: info.byteOffset,
      length: info.byteLength,
    });
    const step = (op: string, input: Tensor, output: Tensor, attrs: Graph['nodes'][number]['attrs']) =>
      prologue.push({ name: g.uniqueName(`n_${op}`), op, inputs: [input], outputs: [output], attrs });
    if (transposed) {
      const cast = new Tensor(g.uniqueName(`${source}.f32`), 'float32', info.shape);
      step('Cast', ref, cast, { to: attr.int(ONNX_DTYPE.float32) });
      step('Transpose', cast, init.tensor, { perm: attr.ints([1, 0]) });
    } else step('Cast', ref, init.tensor, { to: attr.int(ONNX_DTYPE.float32) });
    replaced++;
  }
  if (inlineBytes > INLINE_LIMIT_BYTES)
    throw new UserError(
      `${reader.path}: ${(inlineBytes / 2 ** 20).toFixed(1)} MiB of weights are not in the file as the graph uses them`,
    );
  g.nodes.unshift(...prologue); // the weights first: nodes are in topological order
  return replaced;
}
