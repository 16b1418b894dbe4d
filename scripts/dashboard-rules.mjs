// Prints the PromQL of every panel of a Grafana dashboard as a Prometheus
// rules file (JSON is YAML), so that `promtool check rules` can parse-check
// the dashboard's queries. Grafana variables are replaced by plain values.
import { readFileSync } from 'node:fs';

const dashboard = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const rules = [];
const visit = (panels) => {
  for (const panel of panels ?? []) {
    visit(panel.panels);
    for (const target of panel.targets ?? []) {
      const expr = target.expr.replaceAll('$__rate_interval', '5m').replace(/\$[a-z_]+/g, '.*');
      rules.push({ record: `dashboard:panel_${panel.id}_${target.refId}`, expr });
    }
  }
};
visit(dashboard.panels);
process.stdout.write(JSON.stringify({ groups: [{ name: dashboard.uid, rules }] }, null, 2));
