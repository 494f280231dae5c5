/** Restricted Mode tier: hostile model files opened in an untrusted workspace (see restricted-suite.ts). */
import { describeInHostSuite } from './inhost-runner';

describeInHostSuite({
  title: 'hostile files in Restricted Mode (in-host, code-server 4.100.3)',
  suite: 'restricted-suite.ts',
  outName: 'restricted',
  trusted: false,
  makeWorkspace: (workspace: string) => ({ workspace }),
  checks: ['the workspace is in Restricted Mode and the extension activates'],
});
