// The browser suite: one stack (tests/e2e/stack.py) and one chromium for every test, in this order:
// the public pages (which assert the seeded state), the security defences (read-only), then the
// citizen's journey (which changes consents and rights requests), then the researcher's data room
// (which makes a release, confirms a deletion and asks for access).
import { stackForFile } from "./harness.mjs";
import { citizenJourney } from "./citizen.mjs";
import { publicPages } from "./public.mjs";
import { researcherJourney } from "./researcher.mjs";
import { security } from "./security.mjs";

const running = stackForFile();
publicPages(running);
security(running);
citizenJourney(running);
researcherJourney(running);
