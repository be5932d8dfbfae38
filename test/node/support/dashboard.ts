/** Reading grafana/dashboard.json: the typed shape the tests need and every panel's PromQL. */

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: DashboardTarget[];
  transformations?: unknown[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      thresholds?: { mode: string; steps: Array<{ value: number | null; color: string }> };
      custom?: { stacking?: { mode: string } };
    };
  };
}

export interface DashboardDoc {
  __inputs: unknown[];
  id: null;
  schemaVersion: number;
  templating: { list: unknown[] };
  panels: DashboardPanel[];
}

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
  legendFormat: string;
  instant: boolean;
}

/** Every query of every (non-row) panel, in dashboard order. */
export function dashboardQueries(dashboard: DashboardDoc): PanelQuery[] {
  return dashboard.panels
    .filter((p) => p.type !== 'row')
    .flatMap((p) =>
      p.targets.map((t) => ({
        panel: p.title,
        refId: t.refId,
        expr: t.expr,
        legendFormat: t.legendFormat ?? '',
        instant: t.instant === true,
      })),
    );
}
