/** How the default model's values were chosen: the model card's section (filled from measured runs). */
export const DEFAULT_NOTES = `## How the values were chosen

TODO
`;
