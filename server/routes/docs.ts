import { Hono } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/env.js";
import { openApiConfig, withExamples } from "../http/openapi.js";

/**
 * A small self-contained API reference rendered in the browser from /openapi.json.
 * No CDN, no external assets (Scalar/Swagger UI load their bundles from a CDN by default).
 */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Kakunin API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}
main{max-width:960px;margin:0 auto;padding:24px}
h1{margin:0 0 4px} .desc{color:#555;margin-bottom:24px}
details{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:10px 14px;display:flex;gap:12px;align-items:center}
.m{font:600 12px monospace;padding:2px 8px;border-radius:4px;color:#fff;min-width:48px;text-align:center}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#8e24aa}.delete{background:#c62828}
code,pre{font-family:ui-monospace,monospace;font-size:13px} pre{background:#f3f4f6;padding:10px;overflow:auto;border-radius:4px}
.body{padding:0 14px 12px} .lock{color:#a15c00;font-size:12px} h4{margin:12px 0 4px}
</style></head>
<body><main><h1 id="title">Kakunin API</h1><div class="desc" id="desc"></div><div id="ops">Loading /openapi.json…</div></main>
<script>
const esc=s=>String(s).replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
fetch("openapi.json").then(r=>r.json()).then(doc=>{
  document.getElementById("title").textContent=doc.info.title+" "+doc.info.version;
  document.getElementById("desc").textContent=doc.info.description||"";
  const schemas=(doc.components&&doc.components.schemas)||{};
  const deref=s=>s&&s.$ref?schemas[s.$ref.split("/").pop()]:s;
  let html="";
  for(const [path,item] of Object.entries(doc.paths)){
    for(const [method,op] of Object.entries(item)){
      html+='<details><summary><span class="m '+method+'">'+method.toUpperCase()+'</span><code>'+esc(path)+'</code> '+esc(op.summary||"")+(op.security&&op.security.length?' <span class="lock">🔒 bearer</span>':'')+'</summary><div class="body">';
      if(op.description) html+='<p>'+esc(op.description)+'</p>';
      if(op.parameters&&op.parameters.length){html+='<h4>Parameters</h4><ul>'+op.parameters.map(p=>'<li><code>'+esc(p.name)+'</code> ('+esc(p.in)+(p.required?', required':'')+') '+esc((p.schema&&p.schema.description)||p.description||"")+'</li>').join("")+'</ul>';}
      const rb=op.requestBody&&op.requestBody.content&&op.requestBody.content["application/json"];
      if(rb) html+='<h4>Request body</h4><pre>'+esc(JSON.stringify(deref(rb.schema),null,2))+'</pre>';
      html+='<h4>Responses</h4><ul>';
      for(const [code,r] of Object.entries(op.responses||{})){
        const ct=r.content?Object.keys(r.content):[];
        html+='<li><b>'+esc(code)+'</b> '+esc(r.description||"")+(ct.length?' — <code>'+esc(ct.join(", "))+'</code>':'');
        const js=r.content&&r.content["application/json"];
        if(js&&/^2/.test(code)) html+='<pre>'+esc(JSON.stringify(deref(js.schema),null,2))+'</pre>';
        html+='</li>';
      }
      html+='</ul></div></details>';
    }
  }
  document.getElementById("ops").innerHTML=html;
}).catch(e=>{document.getElementById("ops").textContent="Could not load openapi.json: "+e});
</script></body></html>`;

/**
 * GET /openapi.json (the OpenAPI 3.1 document of every route of `api`, with examples) and
 * GET /docs. The document is built once, on the first request: routes do not change at runtime.
 */
export function docsRoutes(api: OpenAPIHono<AppEnv>, publicUrl: string) {
  const app = new Hono<AppEnv>();
  let doc: string | undefined;
  app.get("/openapi.json", (c) => {
    doc ??= JSON.stringify(
      withExamples(
        api.getOpenAPI31Document(openApiConfig(publicUrl) as Parameters<typeof api.getOpenAPI31Document>[0]),
      ),
    );
    return c.body(doc, 200, { "content-type": "application/json; charset=utf-8" });
  });
  app.get("/docs", (c) => c.html(PAGE));
  return app;
}
