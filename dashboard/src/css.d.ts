// esbuild bundles the CSS this code imports into main.css.
declare module '*.css';
