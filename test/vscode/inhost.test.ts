/**
 * In-host tier: loads the unpacked extension (this repository, built into dist/) into code-server with the
 * in-host suite as `extensionTestsPath`, waits for the suite's results and reports each check as a test.
 */
import { makeWorkspace } from './fixtures';
import { describeInHostSuite } from './inhost-runner';

describeInHostSuite({
  title: 'extension in a real VS Code (in-host, code-server 4.100.3)',
  suite: 'inhost-suite.ts',
  outName: 'inhost',
  makeWorkspace,
  checks: [
    'the extension activates and returns its API',
    'every contributed command is registered, with the RNN Memory category',
    'settings have their documented defaults',
    'the tree lists our model files (header sniffed) and not a foreign safetensors file',
    'an interrupted run on disk is listed after a reload and marked resumable',
    'trainCopyTask with a config argument trains in a worker and saves the run',
    'the new run appears in the tree as completed with its model file',
    'a training panel hidden behind another editor reloads and re-announces ready when shown (no retained context)',
    'stopTraining stops a live run at a step boundary; the run is saved, resumable, and resumeRun finishes it',
    'resumeRun continues the interrupted run from its checkpoint (step 40) to the end',
    'a crashed training worker gives a clear error and the run stays resumable',
    'the custom editor opens a model file and its webview completes the ready handshake',
    'showGradientFlow / showRetention / showBistabilityMap open one panel each for a model argument',
    "exportReport writes the standalone HTML report (the CLI's renderer) with the model's diagnosis",
    'openModel opens a PyTorch state dict (GRU, .safetensors) with answers given as an argument; its report has bistability layers',
    'a foreign model that needs answers fails clearly when none are given and the question is dismissed',
    'compareRuns with two models opens one compare panel',
    'deleteItem removes a run folder (confirmation given) and the tree forgets it',
    'the runsFolder setting changes where runs are listed',
  ],
});
