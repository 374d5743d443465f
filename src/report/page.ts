/**
 * The report as one self-contained HTML page: inline SVG figures, tables, the warnings, the commands that
 * reproduce the runs, and a few lines of script to show per-seed lines. Nothing is loaded from elsewhere, so
 * the file opens offline and can be mailed or committed.
 */
import type { Report } from "./build.js";
import { escapeXml } from "./svg.js";

const STYLE = `
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px auto;max-width:1340px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.figures{display:flex;flex-wrap:wrap;gap:12px}.figures svg{max-width:100%;height:auto;border:1px solid #eee}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.note{font-size:12px;color:#555;max-width:1000px}.warnings li{color:#8a4b00}
code,pre{background:#f6f6f6;font-size:12px}pre{padding:8px;overflow-x:auto}
body:not(.show-seeds) .seed{display:none}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
`;

function table(t: Report["tables"][number]): string {
  const head = `<tr>${t.header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<h3>${escapeXml(t.title)}</h3>\n<table>${head}\n${body}</table>${t.note ? `<p class="note">${escapeXml(t.note)}</p>` : ""}`;
}

export function reportHtml(r: Report): string {
  const legend = r.groups
    .map((g) => `<li><span class="swatch" style="background:${g.color}"></span>${escapeXml(g.label)}: seeds ${g.seeds.join(", ")}${g.label === r.baseline ? " (baseline)" : ""}</li>`)
    .join("");
  const warnings = r.warnings.length
    ? `<h2>What is missing or doubtful</h2><ul class="warnings">${r.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join("")}</ul>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(r.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeXml(r.title)}</h1>
<ul>${legend}</ul>
<p class="note">Curves: interquartile mean (IQM) over seeds with 95% stratified-bootstrap intervals (rliable's definitions).
${r.threshold !== null ? `Reward threshold of ${escapeXml(r.env)}: ${r.threshold}.` : ""}
<label><input type="checkbox" id="seeds" onchange="document.body.classList.toggle('show-seeds', this.checked)"> show each seed</label></p>
${warnings}
<h2>Figures</h2>
<div class="figures">
${r.figures.map((f) => f.svg).join("\n")}
</div>
<h2>Tables</h2>
${r.tables.map(table).join("\n")}
<h2>Reproduce</h2>
<pre>${r.commands.map(escapeXml).join("\n")}</pre>
</body></html>
`;
}
