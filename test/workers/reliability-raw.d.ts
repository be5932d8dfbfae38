// Vite's `?raw` imports (source text of a module), used by reliability-security.test.ts.
declare module '*?raw' {
  const source: string;
  export default source;
}
