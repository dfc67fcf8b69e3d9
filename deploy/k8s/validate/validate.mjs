// Validates Kubernetes manifests offline against the schemas of the API server (kubernetes-models),
// KEDA and the Prometheus Operator: every document must be a known kind and valid for it.
//   kubectl kustomize deploy/k8s/overlays/example | node deploy/k8s/validate/validate.mjs
// Exit code 0: all valid; 1: a document is invalid (each error printed with kind, name and path);
// 2: a kind no schema here covers (so nothing passes unchecked).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as keda from "@kubernetes-models/keda/keda.sh/v1alpha1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = {
  "v1": core,
  "apps/v1": apps,
  "policy/v1": policy,
  "keda.sh/v1alpha1": keda,
  "monitoring.coreos.com/v1": monitoring,
};

const text = readFileSync(process.argv[2] ?? 0, "utf8");
let invalid = 0;
let unknown = 0;
let count = 0;
for (const doc of parseAllDocuments(text)) {
  if (doc.errors.length > 0) {
    console.error(`YAML error: ${doc.errors[0].message}`);
    process.exit(1);
  }
  const obj = doc.toJS();
  if (obj == null) continue;
  count++;
  const where = `${obj.kind ?? "?"} ${obj.metadata?.name ?? "?"}`;
  const Model = models[obj.apiVersion]?.[obj.kind];
  if (Model === undefined) {
    console.error(`${where}: no schema here for ${obj.apiVersion} ${obj.kind}`);
    unknown++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`ok ${where} (${obj.apiVersion})`);
  } catch (e) {
    invalid++;
    const details = (e.errors ?? []).map((x) => `  ${x.instancePath || "/"} ${x.message}`);
    console.error(`${where} (${obj.apiVersion}) is invalid: ${e.message}\n${details.join("\n")}`);
  }
}
console.log(`${count} documents, ${invalid} invalid, ${unknown} of unknown kind`);
process.exit(invalid > 0 ? 1 : unknown > 0 ? 2 : 0);
