import { type CheckInput, gradTest } from './gradcheck';

const labels: CheckInput = { name: 'labels', shape: [3], dtype: 'int64', values: [2, 0, 2] };

gradTest(
  'SoftmaxCrossEntropyLoss: through the per-row loss',
  [{ name: 'scores', shape: [3, 4] }, labels],
  (g, [scores, labels]) => g.softmaxCrossEntropy(scores, labels).loss,
);

gradTest(
  'SoftmaxCrossEntropyLoss: through the log-probabilities',
  [{ name: 'scores', shape: [3, 4] }, labels],
  (g, [scores, labels]) => g.softmaxCrossEntropy(scores, labels).logProb,
);

gradTest(
  'SoftmaxCrossEntropyLoss: through both outputs',
  [{ name: 'scores', shape: [3, 4] }, labels],
  (g, [scores, labels]) => {
    const { loss, logProb } = g.softmaxCrossEntropy(scores, labels);
    return g.add(g.unsqueeze(loss, [1]), logProb);
  },
);

gradTest(
  'SoftmaxCrossEntropyLoss: int32 labels',
  [{ name: 'scores', shape: [3, 4] }, labels],
  (g, [scores, labels]) => g.softmaxCrossEntropy(scores, g.cast(labels, 'int32')).loss,
);
