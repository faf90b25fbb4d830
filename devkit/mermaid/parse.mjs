// Parses Mermaid diagrams with the real `mermaid` package, for tests/test_mermaid.py.
// stdin: a JSON array of diagram texts; stdout: {"mermaid": version, "results": [...]} with, per
// diagram, whether it parsed, the error if not, and for a journey its title, sections and tasks as
// Mermaid read them (copied: Mermaid's journey database is shared and cleared by the next parse).
// Mermaid sanitises text with DOMPurify, which needs a DOM: jsdom provides one.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, logLevel: 'fatal' });

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const texts = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const results = [];
for (const text of texts) {
  try {
    const parsed = await mermaid.parse(text);
    const result = { ok: true, type: parsed.diagramType };
    if (parsed.diagramType === 'journey') {
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
      const db = diagram.db;
      result.title = db.getDiagramTitle();
      result.sections = [...db.getSections()];
      result.tasks = db.getTasks().map((t) => ({ section: t.section, task: t.task, score: t.score, people: [...t.people] }));
    }
    results.push(result);
  } catch (error) {
    results.push({ ok: false, error: String(error && error.message ? error.message : error) });
  }
}
const version = JSON.parse(readFileSync(new URL('./node_modules/mermaid/package.json', import.meta.url), 'utf8')).version;
process.stdout.write(JSON.stringify({ mermaid: version, results }));
