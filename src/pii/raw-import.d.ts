/** `import text from './file.md?raw'` (Vite, used by the corpus test to read the figures it asserts). */
declare module '*.md?raw' {
  const text: string;
  export default text;
}
