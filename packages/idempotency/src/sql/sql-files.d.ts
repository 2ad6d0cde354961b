// A `.sql` file imported by the drivers is its text: tsup's text loader inlines it in the bundle
// (`--loader .sql=text`), and the vite plugin in vitest.shared.ts does the same for the tests.
declare module "*.sql" {
  const text: string;
  export default text;
}
