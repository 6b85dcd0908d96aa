// Charts where looking beats reading: datasets per domain, consent activity per day.
import { api, items } from "./api";
import { barChart, timelineChart } from "./charts";
import { domainLabel } from "./codes";
import { clear, errorBox, h, loading } from "./dom";

export async function renderStats(main: HTMLElement): Promise<void> {
  clear(main, h("h1", {}, "Statistics"), loading("statistics"));
  const [domains, timeline] = await Promise.allSettled([api("/api/stats/domains"), api("/api/stats/consent-timeline")]);
  const parts: HTMLElement[] = [];
  if (domains.status === "fulfilled") {
    const rows = items(domains.value).map((r: any) => ({
      label: domainLabel(r.domain_code ?? r.domain),
      value: Number(r.count ?? r.datasets ?? 0),
    }));
    rows.sort((a, b) => b.value - a.value);
    parts.push(barChart("Datasets by domain", rows));
  } else parts.push(errorBox(`Could not load datasets by domain: ${domains.reason?.message}`));
  if (timeline.status === "fulfilled") {
    const rows = items(timeline.value).map((r: any) => ({
      day: String(r.day ?? r.date),
      grants: Number(r.grants ?? r.granted ?? 0),
      revocations: Number(r.revocations ?? r.revoked ?? 0),
    }));
    parts.push(timelineChart("Consent grants and revocations per day", rows));
  } else parts.push(errorBox(`Could not load the consent timeline: ${timeline.reason?.message}`));
  clear(main, h("h1", {}, "Statistics"), h("div", { class: "charts" }, parts));
}
