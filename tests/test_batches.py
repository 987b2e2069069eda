"""Minibatches: the gathered rows equal those that the stream's positions name, computed by
plain indexing, for both data layouts."""

import torch

from grokpaper.core.batches import BatchStream, TrainingBatches
from grokpaper.core.ensemble_data import EnsembleData


def _padded() -> EnsembleData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 12, 5, generator=g)
    y = torch.randint(0, 4, (3, 12), generator=g)
    return EnsembleData(x, y, torch.tensor([12, 9, 7]), x[0], y[0], 4)


def test_padded_minibatches_are_each_members_own_rows_in_its_own_order():
    data, seeds = _padded(), [4, 5, 6]
    batches = TrainingBatches(data, seeds, batch_size=3)
    stream = BatchStream(seeds, [12, 9, 7], 3, chunk=batches.stream.chunk)
    pos = stream.next_chunk()  # (chunk, E, B): positions among each member's rows
    for step in (0, 1, 2, 57):
        x, y = batches.at(step)
        for e in range(3):
            torch.testing.assert_close(x[e], data.x_train[e, pos[step, e]])
            torch.testing.assert_close(y[e], data.y_train[e, pos[step, e]])
            assert int(pos[step, e].max()) < int(data.n_train[e])  # never a padding row


def test_shared_pool_minibatches_pick_each_members_masked_rows():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(10, 2, generator=g), torch.arange(10)
    mask = torch.rand(2, 10, generator=g) < 0.6
    mask[:, :4] = True  # at least 4 rows each
    data = EnsembleData.from_pool(x, y, mask, 10)
    batches = TrainingBatches(data, [0, 1], batch_size=4)
    pos = BatchStream([0, 1], mask.sum(1).tolist(), 4, chunk=batches.stream.chunk).next_chunk()
    for step in (0, 3):
        xb, yb = batches.at(step)
        for e in range(2):
            rows = torch.nonzero(mask[e]).flatten()[pos[step, e]]  # member e's k-th row
            torch.testing.assert_close(yb[e], rows)
            torch.testing.assert_close(xb[e], x[rows])
