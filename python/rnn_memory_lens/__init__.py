"""RNN Memory Lens for your own PyTorch training: `Monitor(run_dir, model, every=200)`, then
`monitor.log(step, loss=..., test_metric=...)` in the loop and `monitor.close()` (or use it as a context
manager). The run folder is listed, followed live and diagnosed by the lens (`rnn-memory runs`,
`rnn-memory diagnose --run DIR`, the Runs tree in VS Code)."""
from .monitor import Monitor, snapshot_name

__all__ = ["Monitor", "snapshot_name"]
__version__ = "0.1.0"
