import { Command } from 'commander';
import { addSupervisor, listSupervisors, removeSupervisor, setSupervisorSites } from '../../timesheets/supervisors.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';
import { collect } from './timesheet-format.js';

type SitesOptions = CentralOptions & { site?: string[]; json?: boolean };

export function supervisorCommand(): Command {
  const supervisor = new Command('supervisor').description('supervisor logins: each oversees some sites (timesheets, corrections)');

  withCentralOption(
    supervisor
      .command('add')
      .description("create a supervisor's own database login for some sites; prints its password once")
      .argument('<login>', 'login name: 3 to 63 of a-z 0-9 _ . -, starting with a letter')
      .requiredOption('--site <code>', 'a site it oversees (repeat for more)', collect)
      .option('--json', 'print { login, sites, password, url } as JSON'),
  ).action(async (login: string, options: SitesOptions) => {
    await withCentral(options, async (client, target) => {
      const added = await addSupervisor(client, target.url, { login, sites: options.site });
      if (options.json) {
        printJson(added);
        return;
      }
      printLine(`supervisor ${added.login} registered for site${added.sites.length === 1 ? '' : 's'} ${added.sites.join(', ')}`);
      printLine(`password (shown once; central keeps only a verifier): ${added.password}`);
      printLine(`connection URL for --database-url: ${added.url}`);
    });
  });

  withCentralOption(supervisor.command('list').description('supervisors and their sites').option('--json', 'print JSON')).action(
    async (options: CentralOptions & { json?: boolean }) => {
      await withCentral(options, async (client) => {
        const list = await listSupervisors(client);
        if (options.json) printJson(list);
        else if (list.length === 0) printLine('no supervisors');
        else for (const s of list) printLine(`${s.login}  sites ${s.sites.join(', ') || '(none)'}  added ${s.createdAt} by ${s.createdBy}`);
      });
    },
  );

  withCentralOption(
    supervisor
      .command('sites')
      .description('set the sites a supervisor oversees (exactly these; the others are taken away)')
      .argument('<login>', 'supervisor login')
      .requiredOption('--site <code>', 'a site it oversees (repeat for more)', collect),
  ).action(async (login: string, options: SitesOptions) => {
    await withCentral(options, async (client) => {
      const sites = await setSupervisorSites(client, login, options.site);
      printLine(`supervisor ${login} now oversees ${sites.join(', ')}`);
    });
  });

  withCentralOption(
    supervisor
      .command('remove')
      .description("end a supervisor's sessions and delete its login; its corrections and audit rows keep its name")
      .argument('<login>', 'supervisor login'),
  ).action(async (login: string, options: CentralOptions) => {
    await withCentral(options, async (client) => {
      await removeSupervisor(client, login);
      printLine(`supervisor ${login} removed: its login is gone; its corrections and audit rows keep its name`);
    });
  });
  return supervisor;
}
