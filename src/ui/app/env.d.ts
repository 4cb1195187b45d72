// The stylesheet import in main.tsx: esbuild bundles it into dist/ui/app.css.
declare module '*.css';
