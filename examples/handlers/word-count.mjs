// The quick start's handler: its default export runs one task and returns its result.
export default async function wordCount(payload, ctx) {
  const words = payload.text.split(/\s+/).filter(Boolean);
  ctx.logger.info({ words: words.length }, "counted");
  return { words: words.length, longest: words.reduce((a, b) => (b.length > a.length ? b : a), "") };
}
