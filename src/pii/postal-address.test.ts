import { describe, expect, it } from 'vitest';
import { scanText } from './index';

/** The postal addresses found in `text`, as strings. */
function addresses(text: string): string[] {
  return scanText(text)
    .filter((d) => d.type === 'postal_address')
    .map((d) => text.slice(d.start, d.end));
}

describe('postal_address: found', () => {
  it.each<[string, string[]]>([
    ['Kunden bor i Storgata 5, 0155 Oslo.', ['Storgata 5, 0155 Oslo']],
    ['Han bor i Karl Johans gate 22, 0159 OSLO.', ['Karl Johans gate 22, 0159 OSLO']],
    ['Ny adresse: Kirkeveien 64 B, 0364 Oslo.', ['Kirkeveien 64 B, 0364 Oslo']],
    ['Leveres til Øvre Slottsgate 3.', ['Øvre Slottsgate 3']],
    ['Kontoret er i Kongens gt. 2, 0153 Oslo.', ['Kongens gt. 2, 0153 Oslo']],
    ['Vi holder til i Strandveien 50, 1366 Lysaker.', ['Strandveien 50, 1366 Lysaker']],
    [
      'Butikken ligger i Markens gate 31, 4611 Kristiansand S.',
      ['Markens gate 31, 4611 Kristiansand S'],
    ],
    ['Adressen er Rådhusgata 5B.', ['Rådhusgata 5B']],
    ['Huset i Skolegata 5-7 er solgt.', ['Skolegata 5-7']],
    // `KRISTIANSAND S` in the register, often written without the letter.
    [
      'Butikken ligger i Markens gate 31, 4611 Kristiansand.',
      ['Markens gate 31, 4611 Kristiansand'],
    ],
    // A street on one line, the postnummer on the next.
    ['Kari Nordmann\nFjellveien 7\n5019 Bergen', ['Fjellveien 7\n5019 Bergen']],
    // No street generic, but a valid postnummer with its own place.
    ['Hovland 12, 5200 Os', ['Hovland 12, 5200 Os']],
    // Landform suffixes that are also surnames: with an address word, or a postnummer.
    ['Hun flyttet til Solbakken 5 i fjor.', ['Solbakken 5']],
    ['Adressen er Solbakken 3, 1850 Mysen.', ['Solbakken 3, 1850 Mysen']],
    // PO boxes need the postnummer, or a `Postboks` number with its delivery point.
    ['Send det til Postboks 123 Sentrum, 0102 Oslo.', ['Postboks 123 Sentrum, 0102 Oslo']],
    ['Postadresse: Postboks 4 Blindern, 0313 Oslo', ['Postboks 4 Blindern, 0313 Oslo']],
    ['PO Box 55, 0102 Oslo is the address.', ['PO Box 55, 0102 Oslo']],
    ['Innspill sendes til Postboks 8119 Dep, innen fredag.', ['Postboks 8119 Dep']],
    // A capitalised generic after a prefix or a genitive.
    ['Eiendommen i Vestre Gate 8 er solgt.', ['Vestre Gate 8']],
    // Abbreviated suffixes; a postnummer typed without a space after the comma.
    ['Kontoret er i Storgt. 7 i Oslo.', ['Storgt. 7']],
    ['Bor i Kirkevn. 12.', ['Kirkevn. 12']],
    ['Adresse: Storgata 5,0155 Oslo', ['Storgata 5,0155 Oslo']],
    // Initials glued to the street's name.
    ['Retten holder til i C.J. Hambros plass 4.', ['C.J. Hambros plass 4']],
  ])('%j', (text, expected) => {
    expect(addresses(text)).toEqual(expected);
  });

  // Typed in lower case or capitals: found from the postnummer back when the register confirms
  // the postnummer and the poststed.
  it.each<[string, string[]]>([
    ['kunden bor i storgata 5, 0155 oslo', ['storgata 5, 0155 oslo']],
    ['adresse: kirkeveien 12b, 0368 oslo', ['kirkeveien 12b, 0368 oslo']],
    ['ADRESSE: KIRKEVEIEN 12B, 0368 OSLO', ['KIRKEVEIEN 12B, 0368 OSLO']],
    ['Kunden bor i storgata 5, 0155 OSLO.', ['storgata 5, 0155 OSLO']],
    ['send til storgt. 7, 0155 oslo takk', ['storgt. 7, 0155 oslo']],
    ['ny adresse kirkevn. 12, 0368 oslo', ['kirkevn. 12, 0368 oslo']],
    ['bor i storgata 12 b, 0155 oslo', ['storgata 12 b, 0155 oslo']],
    ['bor i storgata 5,0155 oslo', ['storgata 5,0155 oslo']],
    ['bor i storgata 5\n0155 oslo', ['storgata 5\n0155 oslo']],
    ['jeg bor i karl johans gate 22, 0159 oslo', ['karl johans gate 22, 0159 oslo']],
    ['kontoret er i kongens gt. 2, 0153 oslo', ['kongens gt. 2, 0153 oslo']],
    ['butikken i markens gate 31, 4611 kristiansand', ['markens gate 31, 4611 kristiansand']],
    ['svar til postboks 77, 5003 bergen', ['postboks 77, 5003 bergen']],
    [
      'Storgata 5, 0155 Oslo og storgata 7, 0155 oslo',
      ['Storgata 5, 0155 Oslo', 'storgata 7, 0155 oslo'],
    ],
  ])('lower case / capitals: %j', (text, expected) => {
    expect(addresses(text)).toEqual(expected);
  });

  // Pasted from a spreadsheet or a CSV export: the fields of one row, confirmed by the register.
  it.each<[string, string[]]>([
    ['navn,gate,nr,postnr,sted\nKari,Storgata,5,0155,Oslo', ['Storgata,5,0155,Oslo']],
    ['7;Kari;Kirkeveien;12;0368;Oslo', ['Kirkeveien;12;0368;Oslo']],
    ['id,gate,nr,postnr,sted\n1,storgata,5,0155,oslo', ['storgata,5,0155,oslo']],
    ['Storgata 5;0155 Oslo', ['Storgata 5;0155 Oslo']],
    ['Storgata 5\t0155\tOslo', ['Storgata 5\t0155\tOslo']],
    ['Storgata 5, 0155, Oslo', ['Storgata 5, 0155, Oslo']],
    ['Postboks,77,5003,Bergen', ['Postboks,77,5003,Bergen']],
    // Not an address: no street word before the fields, or the register's place does not match.
    ['navn,alder,postnr,sted\nKari,35,0155,Oslo', []],
    ['rad,5,0155,oslo', []],
    ['3,5,0155,Oslo', []],
    ['Storgata,5,0155,Bergen', []],
  ])('CSV fields: %j', (text, expected) => {
    expect(addresses(text)).toEqual(expected);
  });

  it('does not find a street written in lower case without a confirmed postnummer', () => {
    expect(addresses('jeg bor i storgata 5 nå')).toEqual([]);
  });

  it('keeps the street when the poststed does not belong to the postnummer', () => {
    expect(addresses('Storgata 5, 0155 Bergen')).toEqual(['Storgata 5']);
    expect(addresses('Storgata 1, 4611 Kristiansands beste gate.')).toEqual(['Storgata 1']);
  });
});

describe('postal_address: hard negatives', () => {
  it.each<[string]>([
    ['Storgata er stengt for trafikk hele helgen.'],
    ['Bussen kjører ikke gjennom Kirkeveien før i august.'],
    ['Riksvei 7 er stengt mellom Gol og Geilo.'],
    ['Fylkesvei 241 er stengt etter et ras.'],
    ['Sarpsborg 08 vant 2-0 over Odd.'],
    ['Windows 11 krever TPM 2.0.'],
    ['Postnummeret 0150 dekker deler av sentrum.'],
    ['Kapittel 5 handler om personvern.'],
    ['Gate 23 på Gardermoen er stengt.'],
    ['Plass 3 gikk til Lillehammer IL.'],
    ['Storgata 5 km lenger nord er stengt.'],
    ['Bakken 5 meter fra huset raste ut.'],
    ['Boligprisene i Bergen steg 4,5 prosent.'],
    ['Rema 1000 i Storgata åpner 1. mars.'],
    ['Postboks 123 uten postnummer er ingen adresse.'],
    ['Boks 5 Sentrum.'],
    // A sentence end before a number; a decimal.
    ['Vi bor i Storgata. 5 personer kom.'],
    ['Vi solgte Storgata 5,5 millioner.'],
    // A club with a landform suffix in a score; a floor.
    ['Vålerenga 2 – Rosenborg 1 etter første omgang.'],
    ['Kontorer i Kongens gate 3. etasje er ledige.'],
    ['Postboks 12 Dette er ingen adresse.'],
    ['Totalt 5003 BERGEN-kunder fikk brevet.'],
    // Lower case: a street and number without a postnummer, a postnummer whose poststed is not
    // the register's, and `5, 0155` with no street word before it.
    ['vi bor i gata 5'],
    ['bor i storgata 5 i oslo'],
    ['kirkeveien 12b er solgt'],
    ['kunden bor i storgata 5, 0155 bergen'],
    ['kunden bor i storgata 5, 9999 oslo'],
    ['jeg bor i gate 5, 0155 oslo'],
    ['id,antall,postnr,sted\n7,5, 0155 oslo'],
    ['rad 5, 0155 oslo'],
    ['i 2024 kom 5, 0155 oslo'],
    ['storgata 5 km, 0155 oslo'],
    ['riksvei 7, 0155 oslo'],
  ])('%j', (text) => {
    expect(addresses(text)).toEqual([]);
  });
});
