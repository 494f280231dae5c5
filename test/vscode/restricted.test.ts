/** Restricted Mode tier: hostile model files opened in an untrusted workspace (see restricted-suite.ts). */
import { join } from 'node:path';
import { writeHostileFiles } from '../helpers/hostile-files';
import { writeMonitoredRun } from './restricted-monitored';
import { scratchDir } from './harness';
import { describeInHostSuite } from './inhost-runner';
import { HOST_MEMORY_BOUND_MB, hostileCheckName, MONITORED_CHECK } from './restricted-checks';

// Written before the tests are declared: each file is one check.
const workspace = join(scratchDir('rnn-memory-restricted-ws-'), 'ws');
const hostile = writeHostileFiles(join(workspace, 'hostile'));
const monitored = writeMonitoredRun(workspace);

describeInHostSuite({
  title: 'hostile files in Restricted Mode (in-host, code-server 4.100.3)',
  suite: 'restricted-suite.ts',
  outName: 'restricted',
  trusted: false,
  timeoutMs: 600_000,
  workspaceDir: workspace,
  makeWorkspace: () => ({ workspace, hostile: hostile.map((h) => ({ ...h, error: h.error?.source ?? null })), monitored }),
  checks: [
    'the workspace is in Restricted Mode and the extension activates',
    ...hostile.map(hostileCheckName),
    `the extension host's memory grew by less than ${HOST_MEMORY_BOUND_MB} MB while opening them`,
    MONITORED_CHECK,
  ],
});
