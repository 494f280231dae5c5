/**
 * Dependency rules checked by `npm run lint` (depcruise): no import cycles, and each face imports only what it may.
 * shared/ (repo root) is the one folder both the extension host and the webviews may import.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle couples modules that should be layered; move the shared piece down.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Folders of core/ are layers too (cells below custom, engine below train): no folder imports one that imports it back.',
      scope: 'folder',
      from: { path: '^core/' },
      to: { circular: true },
    },
    {
      name: 'core-imports-no-face',
      severity: 'error',
      comment: 'core/ is the pure library under the CLI and the extension; it never imports either face.',
      from: { path: '^core/' },
      to: { path: '^(extension|webview)/' },
    },
    {
      name: 'host-imports-no-webview',
      severity: 'error',
      comment: 'The extension host runs in Node; browser code it needs belongs in shared/.',
      from: { path: '^extension/' },
      to: { path: '^webview/' },
    },
    {
      name: 'webview-imports-no-vscode-or-node',
      severity: 'error',
      comment: 'Webviews run in a browser: neither the vscode API nor Node builtins exist there.',
      from: { path: '^webview/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'webview-imports-no-vscode',
      severity: 'error',
      from: { path: '^webview/' },
      to: { path: '^vscode$' },
    },
    {
      name: 'shared-imports-no-face',
      severity: 'error',
      comment: 'shared/ is imported by the host and the webviews, so it imports neither, nor vscode or Node builtins.',
      from: { path: '^shared/' },
      to: { path: '^(extension/|webview/|vscode$)' },
    },
    {
      name: 'shared-imports-no-node',
      severity: 'error',
      from: { path: '^shared/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true, pathNot: '^(vscode|rnn-memory-lens)$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.e2e|test-output|bench-output|demo-output|runs)/|(^|/)\\.' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
