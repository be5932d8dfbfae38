import { describe, expect, it } from 'vitest';
import { scanText } from './index';

/** The person names found in `text`, as strings. */
function names(text: string): string[] {
  return scanText(text)
    .filter((d) => d.type === 'person_name')
    .map((d) => text.slice(d.start, d.end));
}

describe('person_name: found', () => {
  it.each<[string, string[]]>([
    // First name + surname, with and without registers' help.
    ['Kunden Kari Nordmann ringer om lånet.', ['Kari Nordmann']],
    ['Møtet med Ingrid Solheim ble flyttet.', ['Ingrid Solheim']],
    ['Statsminister Jonas Gahr Støre (Ap) svarte.', ['Jonas Gahr Støre']],
    ['Vi snakket med Boris Johnson i går.', ['Boris Johnson']],
    // Hyphenated and double first names, particles, initials.
    ['Saken gjelder Anne-Lise Berg.', ['Anne-Lise Berg']],
    ['Ole Gunnar Solskjær trente laget.', ['Ole Gunnar Solskjær']],
    ['Manager Erik ten Hag praised the team.', ['Erik ten Hag']],
    ['Boken er skrevet av J. K. Rowling.', ['J. K. Rowling']],
    ['Brevet er signert K. Hansen.', ['K. Hansen']],
    // Genitive -s.
    ['Høyre-leder Erna Solbergs forslag ble nedstemt.', ['Erna Solbergs']],
    // Names that are also words, with a surname after them.
    ['Per Sandberg var i Oslo.', ['Per Sandberg']],
    ['Dag Hammarskjöld var generalsekretær.', ['Dag Hammarskjöld']],
    // Titles, roles and relations.
    ['Møtet med advokat Lie ble utsatt.', ['Lie']],
    ['Pasient Olav Haugen (67) er innlagt.', ['Olav Haugen']],
    ['Dear Mr Jones, thank you for your letter.', ['Jones']],
    ['Dr. Nakamura will see you now.', ['Nakamura']],
    ['Fastlege dr. Eide er varslet.', ['Eide']],
    ['Hei Kari, takk for sist!', ['Kari']],
    ['Mvh\nOla Nordmann', ['Ola Nordmann']],
    // Verbs of saying and ages.
    ['– Vi er fornøyd, sier Putin.', ['Putin']],
    ['Kristian (12) og Emma (9) var savnet.', ['Kristian', 'Emma']],
    // Last, First.
    ['Nordmann, Kari (45) er innlagt.', ['Nordmann, Kari']],
    ['Navn: Hansen, Ola', ['Hansen, Ola']],
    // Capitals.
    ['NAVN: KARI HANSEN', ['KARI HANSEN']],
    // Later mentions of a found name.
    ['Erna Solberg talte. Solberg sier hun er fornøyd.', ['Erna Solberg', 'Solberg']],
    ['Petter Northug ble dømt. Northugs forsvarer anker.', ['Petter Northug', 'Northugs']],
    // A single registered name inside a sentence, or a registered surname opening one.
    ['Jeg møtte Hansen i går.', ['Hansen']],
    ['Haaland er tilbake i trening.', ['Haaland']],
    // Form and query values after `=`.
    ['navn=Tor Erik Moe; tlf=91765432', ['Tor Erik Moe']],
    // Titles, organisations and acronyms before a first name are not part of the name.
    ['Statsråd Hanne Lid (Sp) svarte i Stortinget.', ['Hanne Lid']],
    ['Helse Vest-direktør Berit Sandvik sier nei.', ['Berit Sandvik']],
    ['The bank said Chief Executive Jane Whitfield would retire.', ['Jane Whitfield']],
    ['NATO Secretary General Mark Rutte spoke on Monday.', ['Mark Rutte']],
    ['Fylkesordførar Jon Aasen (Sp) vil ha fleire ferjer.', ['Jon Aasen']],
    // Demonyms and definite roles before a name.
    ['Svensken Olle Brandqvist vant sprinten.', ['Olle Brandqvist']],
    // A later mention of a surname that the English first-name list also has.
    ['Jerome Powell spoke on Monday. Powell spoke again.', ['Jerome Powell', 'Powell']],
    // A name listed after a found one: `og`, and bare surnames in a team sheet.
    ['Det var Haaland og Mbuyamba som scoret.', ['Haaland', 'Mbuyamba']],
    [
      'Lagoppstilling: Nyland – Ryerson, Ajer, Østigård – Berge.',
      ['Nyland', 'Ryerson', 'Ajer', 'Østigård', 'Berge'],
    ],
    // In English text a word listed after a name must be a registered name.
    ['The code is by Isaac Z. Schlueter and Contributors.', ['Isaac Z. Schlueter']],
    // Never a title or an institution after a name.
    ['Blant gjestene var Kong Harald og Dronning Sonja.', ['Harald', 'Sonja']],
    // Never an identifier after a name.
    ['Koden er skrevet av Olsen og RetryHandler.', ['Olsen']],
    // Unknown words opening a sentence, then the last of them alone: full name, then surname.
    ['Elon Musk varsler en ny fabrikk. Musk vil ikke si hvor.', ['Elon Musk', 'Musk']],
    // A registered name listed before a found one, also opening a line.
    ['Ingrid, Jon og Turid med familier', ['Ingrid', 'Jon', 'Turid']],
    // Royal and religious titles.
    ['The service was attended by Queen Camilla.', ['Camilla']],
    ['Saudi Crown Prince Mohammed bin Salman hosted the talks.', ['Mohammed bin Salman']],
    // A place after a lone first name is a (farm-name) surname; Korean given names.
    ['Vi snakket med Ivar Odnes i går.', ['Ivar Odnes']],
    ['Nord-Koreas leder Kim Jong-un har møtt Putin.', ['Kim Jong-un']],
    ['Enken Julija Navalnaja leder bevegelsen.', ['Julija Navalnaja']],
    // After a verb of saying, a team before a role is not a name.
    ['"We were lucky," said Rovers manager Tom Smith.', ['Tom Smith']],
  ])('%j', (text, expected) => {
    expect(names(text)).toEqual(expected);
  });
});

describe('person_name: hard negatives', () => {
  it.each<[string]>([
    ['Det var en fin dag i Oslo og Bergen.'],
    ['Per dato har vi 45 kunder i Trondheim.'],
    ['Equinor og Telenor la fram tall for Q3.'],
    ['Vi flytter kontoret til Karl Johans gate i mai.'],
    ['Kari Hansen Bygg AS har levert tilbud.'],
    ['Sykehuset Innlandet må kutte stillinger.'],
    ['Analytiker i Nordea Markets mener oppgangen er overdrevet.'],
    ['Will Microsoft buy Activision? Mark my words.'],
    ['The meeting is on Monday in May.'],
    ['Møtet er på mandag i Lillehammer.'],
    ['Microsoft Teams og Google Chrome er installert.'],
    ['Hei!\nPakken min står som levert.'],
    ['Styret innhenter tilbud på oppgang B. Styret møtes igjen i mars.'],
    ['kari.nordmann@example.no og Ola.Nordmann@example.no'],
    ['Se /Users/Kari/Documents for filene.'],
    ['iPhone 15 er på tilbud.'],
    ['Bussen går fra Mo i Rana klokken 12.'],
    ['Politiet opplyser at ingen er skadd, opplyser Slottet.'],
    // Institutions the lexicon does not list, before a verb of saying.
    ['Org.nr. 987654309, Brønnøysundregistrene bekrefter at selskapet er aktivt.'],
    ['I går sa Finansdepartementet at skatten økes.'],
    ['Fylkesmannen i Vestland og Sunnfjordsykehuset sier at de samarbeider.'],
    // Nynorsk function words that are also surnames, at a sentence start.
    ['Ho vart fødd i Ørsta og budde der heile livet.'],
    // Title-case headlines: a genitive of a word-like first name is a word.
    ['Market Says Prices Will Fall'],
    // After a verb of saying: a thing with a number, a team before a role.
    ['The minister said Article 5 applied to all members.'],
    // A club named by its last word (`City`, `Villa` are in the lexicon); instructions opening a
    // sentence with a product's name.
    ['Outside Docker, change the target. Then start Docker again.'],
    ['Deployed Worker — the target is the Worker hostname.'],
    ['Manchester City slo Arsenal 2–1. City er nå på toppen av tabellen.'],
    // A greeting is a cue only where a line starts; an acronym before no name; identifiers.
    ['console.log(c.bold("Hello World!"))'],
    ['The MIT License (MIT)'],
    // A broadcaster after a verb of saying.
    ['"We lost," he told Sky Sports.'],
    // A bank (an institution ending) before a verb of saying.
    ['Nordea og Handelsbanken tror renten kuttes.'],
    // A firm after `i` before a verb of saying; a saint's name.
    ['Analytiker i Pareto tror aksjen vil stige.'],
    ['Han fikk St. Olavs Orden i fjor.'],
    // A word after `<Name> <number>` is part of a thing's name.
    ['Analytiker i Sparebank 1 Finanshuset mener renten faller.'],
  ])('%j', (text) => {
    expect(names(text)).toEqual([]);
  });
});
