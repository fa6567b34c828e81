// CSS imported for its side effect: esbuild emits it beside the bundle (dist/webview/main.css).
declare module '*.css';
