/** The protocol lives in shared/ (both faces compile it); this re-export keeps the webview's imports short. */
export * from '../shared/protocol';
