// Svelte compiler options for the Vite plugin and svelte-check (defaults; present so both agree).
export default {};
