import { Command } from 'commander';
import { readJsonObjectFile, setSiteRules, showSiteRules, type SiteRulesView } from '../../timesheets/site-settings.js';
import { withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';
import { describeRules, withCentralForStaff } from './timesheet-format.js';

function print(view: SiteRulesView, json: boolean | undefined): void {
  if (json) {
    printJson(view);
    return;
  }
  printLine(
    [
      `site ${view.site} (${view.timeZone}): ${view.stored ? `rules set by ${view.updatedBy ?? '?'} at ${view.updatedAt ?? '?'}` : 'the default rules'}`,
      ...describeRules(view.rules).map((clause) => `  ${clause}`),
      `  two-person rule ${view.secondApproval ? 'on: a correction needs a second login to approve it' : 'off: a correction is approved when asked'}`,
      `as JSON: ${JSON.stringify({ ...view.rules, secondApproval: view.secondApproval })}`,
    ].join('\n'),
  );
}

export function rulesCommand(): Command {
  const rules = new Command('rules').description("a site's pay rules: breaks, rounding, overtime, grace, the two-person rule");

  withCentralOption(
    rules
      .command('show')
      .description('the rules in force at a site (its own, or the defaults) and whether the two-person rule is on')
      .requiredOption('--site <code>', 'site')
      .option('--json', 'print JSON'),
  ).action(async (options: CentralOptions & { site: string; json?: boolean }) => {
    await withCentralForStaff(options, async (client) => print(await showSiteRules(client, options.site), options.json));
  });

  withCentralOption(
    rules
      .command('set')
      .description(
        "set a site's rules from a JSON file of the rules to change (laid over the current ones; see docs/timesheets.md); every field is checked and nothing is written if one is wrong",
      )
      .argument('<file>', 'JSON object: some or all of the rules, and secondApproval: true|false')
      .requiredOption('--site <code>', 'site')
      .option('--replace', 'rules the file does not give go back to the defaults (secondApproval stays unless given)')
      .option('--json', 'print the rules now in force as JSON'),
  ).action(async (file: string, options: CentralOptions & { site: string; replace?: boolean; json?: boolean }) => {
    const value = readJsonObjectFile(file);
    await withCentralForStaff(options, async (client) => {
      print(await setSiteRules(client, options.site, { path: file, value }, { replace: options.replace ?? false }), options.json);
    });
  });
  return rules;
}
