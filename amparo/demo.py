"""Deterministic synthetic demo data: a clearly fake registry shaped like the real world.

Everything comes from one ``random.Random(seed)`` and a reference date, so the same seed and
date give the same records. The shape follows the published sanity figures (DOMAIN.md §9): most
incidents in the Americas (Colombia, Mexico, Honduras, Brazil, Guatemala) and the
Philippines; killings a small share of acts; judicial harassment, threats, harassment and
smears frequent; digital attacks rising every year; collective attacks common among land,
environment and Indigenous defenders; family members targeted; gendered attacks on women
defenders. Names are composed from pools, every incident title ends with ``(DEMO)`` and every
profile says it is synthetic. The word ``quetzalcoatl`` appears in the narrative of a handful
of incidents and nowhere else, so tests can prove search over encrypted narratives.
"""

from __future__ import annotations

import functools
import itertools
import random
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from amparo.domain.vocabularies import load_vocabularies
from amparo.errors import AmparoError

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = [
    "DEMO_SEED",
    "MARKER_WORD",
    "DemoError",
    "DemoSize",
    "demo_defenders",
    "demo_incidents",
    "demo_links",
    "populate",
]

DEMO_SEED = 20231210
MARKER_WORD = "quetzalcoatl"
MARKED_INCIDENTS = 5
YEARS_BACK = 6  # full calendar years before the reference year, plus the year so far
PERSON_NOTE = "Synthetic demo profile — not a real person."
GROUP_NOTE = "Synthetic demo profile — not a real person or organisation."

Record = dict[str, Any]
ProgressFn = Callable[[str, int, int], None]


class DemoError(AmparoError):
    """The demo generator produced a record the registry refused (a bug in this module)."""


@dataclass(frozen=True)
class DemoSize:
    defenders: int = 600
    incidents: int = 3200


# --------------------------------------------------------------------------------------
# Countries: weight (share of incidents), name culture, dialling code, lethality,
# restrictive civic space, regions with places, community/collective name templates.
# --------------------------------------------------------------------------------------
Sectors = tuple[str, ...]
Template = tuple[str, Sectors]


@dataclass(frozen=True)
class _Country:
    code: str
    weight: float
    culture: str
    dial: str
    lethal: float
    restrictive: bool
    regions: tuple[tuple[str, tuple[str, ...]], ...]
    collectives: tuple[Template, ...] = ()

    @property
    def americas(self) -> bool:
        return self.code in _AMERICAS


_AMERICAS = frozenset(
    (
        "CO",
        "MX",
        "HN",
        "BR",
        "GT",
        "PE",
        "NI",
        "VE",
        "EC",
        "BO",
        "AR",
        "CL",
        "PY",
        "SV",
        "PA",
        "CR",
        "US",
        "CA",
        "HT",
        "DO",
        "CU",
    )
)
IND, LAND, ENV, AFRO = "indigenous_peoples", "land", "environment", "afro_descendant_communities"
WOM, LAB, HOUSE, TRUTH = (
    "womens_rights",
    "labour_trade_unions",
    "housing_esc_rights",
    "truth_justice",
)


def _c(
    code: str,
    weight: float,
    culture: str,
    dial: str,
    lethal: float,
    regions: dict[str, tuple[str, ...]],
    collectives: tuple[Template, ...] = (),
    *,
    restrictive: bool = False,
) -> _Country:
    return _Country(code, weight, culture, dial, lethal, restrictive,
                    tuple(regions.items()), collectives)  # fmt: skip


COUNTRIES: tuple[_Country, ...] = (
    # -- Americas ----------------------------------------------------------------------
    _c("CO", 17, "es", "57", 3.0, {
        "Cauca": ("Toribío", "Santander de Quilichao", "Argelia"),
        "Antioquia": ("Ituango", "Segovia", "Medellín"),
        "Nariño": ("Tumaco", "Barbacoas"),
        "Chocó": ("Quibdó", "Riosucio"),
        "Valle del Cauca": ("Buenaventura", "Jamundí"),
        "Norte de Santander": ("Cúcuta", "Tibú"),
    }, (("Resguardo Indígena Nasa de {place}", (IND, LAND)),
        ("Consejo Comunitario Afrodescendiente de {place}", (AFRO, LAND)),
        ("Guardia Indígena de {place}", (IND, "peace")),
        ("Asociación Campesina de {place}", (LAND, "peace")))),
    _c("MX", 9, "es", "52", 1.6, {
        "Guerrero": ("Chilpancingo", "Tlapa de Comonfort"),
        "Oaxaca": ("Juchitán de Zaragoza", "Santiago Jamiltepec"),
        "Chiapas": ("San Cristóbal de las Casas", "Ocosingo"),
        "Michoacán": ("Aquila", "Uruapan"),
        "Chihuahua": ("Guadalupe y Calvo", "Ciudad Juárez"),
        "Sonora": ("Cajeme", "Hermosillo"),
    }, (("Comunidad Zapoteca de {place}", (IND, LAND)),
        ("Asamblea de Pueblos Indígenas de {place}", (IND, ENV)),
        ("Colectivo de Madres Buscadoras de {place}", (TRUTH,)))),
    _c("HN", 5, "es", "504", 2.0, {
        "Colón": ("Tocoa", "Trujillo"),
        "Atlántida": ("La Ceiba", "Tela"),
        "Intibucá": ("La Esperanza", "Yamaranguila"),
        "Francisco Morazán": ("Tegucigalpa",),
    }, (("Comunidad Garífuna de {place}", (AFRO, LAND)),
        ("Consejo Indígena Lenca de {place}", (IND, ENV)),
        ("Comité en Defensa de los Bienes Comunes de {place}", (ENV,)))),
    _c("BR", 7, "pt", "55", 1.6, {
        "Pará": ("Altamira", "Marabá", "Anapu"),
        "Maranhão": ("Imperatriz", "Amarante do Maranhão"),
        "Mato Grosso do Sul": ("Dourados", "Caarapó"),
        "Bahia": ("Salvador", "Ilhéus"),
        "Amazonas": ("Manaus", "Atalaia do Norte"),
    }, (("Comunidade Quilombola de {place}", (AFRO, LAND)),
        ("Aldeia Guarani-Kaiowá de {place}", (IND, LAND)),
        ("Assentamento Rural de {place}", (LAND,)),
        ("Coletivo de Mulheres Extrativistas de {place}", (ENV, WOM)))),
    _c("GT", 5, "es", "502", 1.4, {
        "Alta Verapaz": ("Cobán", "Chisec"),
        "Izabal": ("El Estor", "Livingston"),
        "Huehuetenango": ("San Mateo Ixtatán", "Barillas"),
        "Quiché": ("Nebaj", "Santa Cruz del Quiché"),
        "Guatemala": ("Ciudad de Guatemala",),
    }, (("Comunidad Maya Q'eqchi' de {place}", (IND, LAND)),
        ("Consejo de Autoridades Ancestrales de {place}", (IND,)),
        ("Resistencia Pacífica de {place}", (ENV, LAND)))),
    _c("PE", 2.5, "es", "51", 0.6, {
        "Cusco": ("Espinar", "Chumbivilcas"),
        "Junín": ("Satipo", "Huancayo"),
        "Ucayali": ("Pucallpa",),
        "Puno": ("Juliaca",),
    }, (("Comunidad Campesina de {place}", (LAND, ENV)),
        ("Comunidad Nativa Asháninka de {place}", (IND, ENV)))),
    _c("NI", 2, "es", "505", 0.6, {
        "Costa Caribe Norte": ("Bilwi", "Waspam"),
        "Managua": ("Managua",),
        "León": ("León",),
    }, (("Comunidad Miskitu de {place}", (IND, LAND)),), restrictive=True),
    _c("VE", 2, "es", "58", 0.6, {
        "Zulia": ("Maracaibo", "Machiques de Perijá"),
        "Bolívar": ("Ciudad Guayana", "El Callao"),
        "Distrito Capital": ("Caracas",),
    }, (("Comunidad Yukpa de {place}", (IND, LAND)),), restrictive=True),
    _c("EC", 2, "es", "593", 0.6, {
        "Sucumbíos": ("Lago Agrio",),
        "Morona Santiago": ("Macas",),
        "Imbabura": ("Cotacachi",),
        "Pichincha": ("Quito",),
    }, (("Comunidad Kichwa de {place}", (IND, ENV)),)),
    _c("BO", 1.2, "es", "591", 0.6, {
        "La Paz": ("El Alto",), "Beni": ("Trinidad",), "Santa Cruz": ("San Ignacio de Velasco",),
    }),
    _c("AR", 0.8, "es", "54", 0.05, {
        "Jujuy": ("San Salvador de Jujuy",), "Chubut": ("Esquel",), "Buenos Aires": ("La Plata",),
    }),
    _c("CL", 1.2, "es", "56", 0.05, {
        "Araucanía": ("Temuco", "Ercilla"), "Valparaíso": ("Quintero",), "Biobío": ("Tirúa",),
    }, (("Comunidad Mapuche de {place}", (IND, LAND)),)),
    _c("PY", 0.8, "es", "595", 0.6, {
        "Canindeyú": ("Curuguaty",), "San Pedro": ("San Pedro de Ycuamandiyú",),
        "Central": ("Asunción",),
    }),
    _c("SV", 1.2, "es", "503", 0.6, {
        "Cabañas": ("Sensuntepeque",), "San Salvador": ("San Salvador",),
        "Chalatenango": ("Chalatenango",),
    }, restrictive=True),
    _c("PA", 0.5, "es", "507", 0.3, {
        "Ngäbe-Buglé": ("Kankintú",), "Colón": ("Colón",), "Panamá": ("Ciudad de Panamá",),
    }),
    _c("CR", 0.4, "es", "506", 0.3, {
        "Puntarenas": ("Buenos Aires de Puntarenas",), "San José": ("San José",),
    }),
    _c("US", 1.0, "en", "1", 0.05, {
        "Texas": ("Brownsville", "El Paso"), "North Dakota": ("Cannon Ball",),
        "Arizona": ("Tucson",),
    }),
    _c("CA", 0.4, "en", "1", 0.05, {
        "British Columbia": ("Smithers",), "Ontario": ("Toronto",),
    }),
    _c("HT", 1.0, "fr", "509", 0.6, {
        "Ouest": ("Port-au-Prince", "Croix-des-Bouquets"), "Artibonite": ("Gonaïves",),
        "Nord": ("Cap-Haïtien",),
    }),
    _c("DO", 0.4, "es", "1", 0.3, {"Santo Domingo": ("Santo Domingo Este",),
                                   "Dajabón": ("Dajabón",)}),
    _c("CU", 0.8, "es", "53", 0.05, {"La Habana": ("La Habana",),
                                     "Santiago de Cuba": ("Santiago de Cuba",)},
       restrictive=True),
    # -- Asia --------------------------------------------------------------------------
    _c("PH", 6, "fil", "63", 1.6, {
        "Negros Occidental": ("Bacolod", "Sagay"),
        "Bukidnon": ("Malaybalay", "Quezon"),
        "Surigao del Sur": ("Lianga", "Tandag"),
        "Kalinga": ("Tabuk",),
        "Metro Manila": ("Quezon City", "Manila"),
        "Samar": ("Catbalogan",),
        "Davao del Norte": ("Talaingod",),
    }, (("Lumad community of {place}", (IND, LAND)),
        ("Samahan ng mga Magsasaka ng {place}", (LAND,)),
        ("Council of Elders of {place}", (IND, ENV)))),
    _c("IN", 2.5, "south_asian", "91", 0.3, {
        "Chhattisgarh": ("Raipur", "Bastar"), "Odisha": ("Bhubaneswar", "Kalahandi"),
        "Jharkhand": ("Ranchi",), "Maharashtra": ("Mumbai", "Gadchiroli"),
        "Delhi": ("New Delhi",),
    }, (("Adivasi Forest Rights Committee of {place}", (IND, LAND)),
        ("{place} Fisherfolk Union", (LAB, ENV)))),
    _c("ID", 1.5, "id", "62", 0.3, {
        "Papua": ("Jayapura", "Wamena"), "Kalimantan Timur": ("Samarinda",),
        "Jawa Tengah": ("Rembang",), "Sumatra Utara": ("Medan",),
    }, (("Masyarakat Adat {place}", (IND, LAND)),)),
    _c("TH", 1.0, "th", "66", 0.25, {
        "Loei": ("Wang Saphung",), "Bangkok": ("Bangkok",), "Chiang Mai": ("Chiang Mai",),
    }),
    _c("MM", 1.5, "mm", "95", 0.25, {
        "Yangon": ("Yangon",), "Sagaing": ("Monywa",), "Kachin": ("Myitkyina",),
        "Rakhine": ("Sittwe",),
    }, restrictive=True),
    _c("KH", 0.8, "kh", "855", 0.25, {
        "Phnom Penh": ("Phnom Penh",), "Koh Kong": ("Koh Kong",), "Mondulkiri": ("Sen Monorom",),
    }, restrictive=True),
    _c("BD", 1.0, "south_asian", "880", 0.25, {
        "Dhaka": ("Dhaka",), "Chittagong Hill Tracts": ("Rangamati", "Bandarban"),
    }),
    _c("PK", 1.0, "south_asian", "92", 0.25, {
        "Sindh": ("Karachi",), "Punjab": ("Lahore",), "Khyber Pakhtunkhwa": ("Peshawar",),
    }),
    _c("NP", 0.5, "south_asian", "977", 0.1, {"Bagmati": ("Kathmandu",),
                                               "Madhesh": ("Janakpur",)}),
    # -- Africa ------------------------------------------------------------------------
    _c("CD", 1.2, "fr", "243", 0.3, {
        "Nord-Kivu": ("Goma", "Beni"), "Sud-Kivu": ("Bukavu",), "Kinshasa": ("Kinshasa",),
        "Haut-Katanga": ("Lubumbashi",),
    }),
    _c("KE", 1.0, "east_south_africa", "254", 0.25, {
        "Nairobi": ("Nairobi", "Mathare"), "Lamu": ("Lamu",), "Kisumu": ("Kisumu",),
    }, (("{place} Community Land Committee", (LAND, HOUSE)),)),
    _c("UG", 1.0, "east_south_africa", "256", 0.25, {
        "Kampala": ("Kampala",), "Hoima": ("Hoima",), "Gulu": ("Gulu",),
    }),
    _c("NG", 1.0, "west_africa_en", "234", 0.25, {
        "Lagos": ("Lagos",), "Rivers": ("Port Harcourt", "Bori"), "Abuja": ("Abuja",),
    }),
    _c("ZW", 0.6, "east_south_africa", "263", 0.1, {"Harare": ("Harare",),
                                                     "Manicaland": ("Mutare",)},
       restrictive=True),
    _c("CM", 0.6, "fr", "237", 0.25, {
        "Nord-Ouest": ("Bamenda",), "Littoral": ("Douala",), "Centre": ("Yaoundé",),
    }),
    _c("SN", 0.3, "fr", "221", 0.05, {"Dakar": ("Dakar",), "Kédougou": ("Kédougou",)}),
    _c("ZA", 0.8, "east_south_africa", "27", 0.25, {
        "KwaZulu-Natal": ("Durban", "Somkhele"), "Eastern Cape": ("Xolobeni",),
        "Gauteng": ("Johannesburg",),
    }),
    # -- Europe and Central Asia ---------------------------------------------------------
    _c("RU", 1.0, "slavic", "7", 0.1, {
        "Moscow": ("Moscow",), "Chechnya": ("Grozny",), "Krasnodar": ("Krasnodar",),
    }, restrictive=True),
    _c("TR", 1.2, "tr", "90", 0.05, {
        "İstanbul": ("İstanbul",), "Diyarbakır": ("Diyarbakır",), "Ankara": ("Ankara",),
    }, restrictive=True),
    _c("BY", 0.7, "slavic", "375", 0.05, {"Minsk": ("Minsk",), "Homiel": ("Homiel",)},
       restrictive=True),
    _c("UA", 0.4, "slavic", "380", 0.1, {"Kherson": ("Kherson",), "Kyiv": ("Kyiv",)}),
    _c("RS", 0.3, "slavic", "381", 0.05, {"Belgrade": ("Belgrade",),
                                          "Vojvodina": ("Novi Sad",)}),
    _c("GB", 0.3, "en", "44", 0.02, {"England": ("London", "Manchester")}),
    _c("FR", 0.3, "fr", "33", 0.02, {"Île-de-France": ("Paris",),
                                     "Hauts-de-France": ("Calais",)}),
    # -- Middle East and North Africa -----------------------------------------------------
    _c("EG", 1.2, "ar", "20", 0.1, {
        "Cairo": ("Cairo",), "Alexandria": ("Alexandria",), "North Sinai": ("Arish",),
    }, restrictive=True),
    _c("IR", 1.0, "fa", "98", 0.2, {
        "Tehran": ("Tehran",), "Kurdistan": ("Sanandaj",),
        "Sistan and Baluchestan": ("Zahedan",),
    }, restrictive=True),
    _c("SA", 0.4, "ar", "966", 0.1, {"Riyadh": ("Riyadh",), "Eastern Province": ("Qatif",)},
       restrictive=True),
    _c("PS", 0.8, "ar", "970", 0.4, {
        "West Bank": ("Hebron", "Ramallah", "Masafer Yatta"), "Gaza": ("Gaza City",),
    }, (("{place} Village Council", (LAND, HOUSE)),)),
    _c("IQ", 0.7, "ar", "964", 0.4, {
        "Baghdad": ("Baghdad",), "Basra": ("Basra",), "Kurdistan Region": ("Sulaymaniyah",),
    }),
    _c("SY", 0.4, "ar", "963", 0.3, {"Idlib": ("Idlib",), "Damascus": ("Damascus",)},
       restrictive=True),
    _c("BH", 0.3, "ar", "973", 0.05, {"Capital": ("Manama",)}, restrictive=True),
    _c("MA", 0.4, "ar", "212", 0.05, {"Rabat-Salé-Kénitra": ("Rabat",),
                                      "Oriental": ("Jerada",)}),
    _c("TN", 0.4, "ar", "216", 0.05, {"Tunis": ("Tunis",), "Gafsa": ("Redeyef",)}),
    _c("SD", 0.6, "ar", "249", 0.4, {"Khartoum": ("Khartoum", "Omdurman"),
                                     "North Darfur": ("El Fasher",)}, restrictive=True),
)  # fmt: skip
_BY_CODE = {c.code: c for c in COUNTRIES}

# Where migrant-rights defenders often come from, by country of work.
_MIGRATION = {"CO": "VE", "MX": "HN", "CL": "VE", "PE": "VE", "CR": "NI", "US": "MX",
              "TH": "MM", "BD": "MM", "TR": "SY", "EG": "SD", "DO": "HT", "FR": "SD"}  # fmt: skip

# --------------------------------------------------------------------------------------
# Name pools: (female first names, male first names, surnames).
# --------------------------------------------------------------------------------------
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "es": (
        ("María", "Ana", "Luz", "Carmen", "Rosa", "Marta", "Diana", "Paola", "Yolanda",
         "Gloria", "Claudia", "Lucía", "Sandra", "Beatriz", "Esperanza", "Milagros", "Xiomara",
         "Leidy", "Elena", "Isabel", "Juana", "Catalina", "Adriana", "Natalia", "Mercedes",
         "Teresa", "Olga", "Dora", "Yesenia", "Aura"),
        ("José", "Juan", "Carlos", "Luis", "Jorge", "Miguel", "Pedro", "Andrés", "Javier",
         "Fernando", "Rafael", "Hernán", "Álvaro", "Edwin", "Wilmer", "Jhon", "Óscar", "Héctor",
         "Samuel", "Tomás", "Ramiro", "Esteban", "Julio", "Mario", "Víctor", "Arley"),
        ("García", "Rodríguez", "Martínez", "López", "Hernández", "González", "Pérez",
         "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Morales",
         "Cruz", "Ortiz", "Castillo", "Vargas", "Mendoza", "Ríos", "Castaño", "Quintero",
         "Mosquera", "Caicedo", "Ipia", "Yule", "Pop", "Caal", "Xol", "Tzul", "Quispe",
         "Mamani", "Huamán", "Condori", "Valencia", "Álvarez", "Bonilla", "Santiz"),
    ),
    "pt": (
        ("Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Aline",
         "Sandra", "Raimunda", "Luciana", "Tatiane", "Joana", "Célia", "Rosângela", "Vanessa"),
        ("José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas",
         "Raimundo", "Marcos", "Sebastião", "Luiz", "Rafael", "Edson", "Gilmar"),
        ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Ferreira", "Costa",
         "Rodrigues", "Almeida", "Nascimento", "Araújo", "Carvalho", "Gomes", "Ribeiro",
         "Barbosa", "Tupinambá", "Munduruku"),
    ),
    "en": (
        ("Sarah", "Emily", "Grace", "Mary", "Jennifer", "Rebecca", "Naomi", "Ruth", "Hannah",
         "Joy", "Alice", "Linda", "Patricia", "Margaret", "Winona"),
        ("John", "David", "Michael", "James", "Daniel", "Peter", "Paul", "Samuel", "Joseph",
         "Robert", "Thomas", "Mark", "Dakota"),
        ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Hughes",
         "Bennett", "Reid", "Morgan", "Foster", "Hayes", "Porter", "Two Bears", "Redcloud"),
    ),
    "fr": (
        ("Marie", "Claudette", "Nadège", "Sandrine", "Esther", "Rose", "Mireille", "Josiane",
         "Françoise", "Aïssatou", "Fatou", "Chantal", "Pascale", "Yvette", "Solange"),
        ("Jean", "Pierre", "Emmanuel", "Patrick", "Jacques", "Serge", "Didier", "Théodore",
         "Moïse", "Alain", "Mamadou", "Ousmane", "Joseph", "Fabrice"),
        ("Pierre-Louis", "Étienne", "Mukendi", "Ilunga", "Kasongo", "Mbala", "Ndiaye", "Diop",
         "Fall", "Sow", "Mbarga", "Fotso", "Moreau", "Lefèvre", "Charles", "Jean-Baptiste",
         "Augustin", "Lubala"),
    ),
    "fil": (
        ("Maria", "Ana", "Josefina", "Rosario", "Teresita", "Marites", "Jocelyn", "Rowena",
         "Liza", "Ligaya", "Tala", "Amihan", "Luningning", "Charito", "Rhea", "Gemma"),
        ("Jose", "Juan", "Ramon", "Eduardo", "Rodel", "Jomar", "Rolando", "Bayani", "Crisanto",
         "Arnel", "Noel", "Ronaldo", "Emmanuel", "Danilo", "Datu Manuel"),
        ("Dalisay", "Bautista", "Mangubat", "Magbanua", "Lualhati", "Dimaculangan", "Tolentino",
         "Villanueva", "Santos", "Ramos", "Manalo", "Macaraeg", "Pangilinan", "Dumalagan",
         "Sumagaysay", "Agbayani", "Tiongson", "Salazar", "Mendoza", "Ampatuan"),
    ),
    "ar": (
        ("Fatima", "Aisha", "Mariam", "Layla", "Nour", "Huda", "Samira", "Rania", "Yasmin",
         "Salma", "Amal", "Hanan", "Zainab", "Dalia", "Reem"),
        ("Mohammed", "Ahmed", "Omar", "Khaled", "Youssef", "Hassan", "Ali", "Ibrahim",
         "Mahmoud", "Tariq", "Karim", "Samir", "Walid", "Nabil", "Ziad"),
        ("Al-Masri", "Haddad", "Khalil", "Nasser", "Saleh", "Mansour", "Hamdan", "Abdelrahman",
         "Darwish", "Barakat", "Qasim", "Al-Jabri", "Farouk", "Saeed", "Hijazi", "El-Sayed"),
    ),
    "fa": (
        ("Shirin", "Maryam", "Nasrin", "Parisa", "Leila", "Sepideh", "Azadeh", "Golnaz",
         "Roya"),
        ("Reza", "Ali", "Mehdi", "Hossein", "Amir", "Saeed", "Behrouz", "Kian", "Arash"),
        ("Ahmadi", "Hosseini", "Karimi", "Rezaei", "Moradi", "Jafari", "Sadeghi", "Rahimi",
         "Tehrani", "Kurdpour"),
    ),
    "tr": (
        ("Ayşe", "Elif", "Zeynep", "Fatma", "Emine", "Hatice", "Derya", "Nurcan", "Gülşen",
         "Selin", "Rojda"),
        ("Mehmet", "Ahmet", "Mustafa", "Ali", "Hasan", "Hüseyin", "Murat", "Emre", "Osman",
         "Kemal", "Baran"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk", "Arslan",
         "Doğan", "Koç", "Kurt"),
    ),
    "slavic": (
        ("Anna", "Olga", "Natalia", "Irina", "Svetlana", "Yelena", "Tatiana", "Maria", "Daria",
         "Oksana"),
        ("Alexei", "Sergei", "Dmitri", "Ivan", "Mikhail", "Andrei", "Pavel", "Nikolai", "Oleg",
         "Yuri"),
        ("Ivanov", "Petrov", "Smirnov", "Kuznetsov", "Sokolov", "Volkov", "Morozov", "Lebedev",
         "Kozlov", "Novikov", "Pavlenko", "Shevchuk", "Kovalenko", "Marković", "Jovanović",
         "Zhukovsky"),
    ),
    "south_asian": (
        ("Priya", "Anjali", "Sunita", "Lakshmi", "Meena", "Kavita", "Rukhsana", "Nasreen",
         "Farzana", "Sita", "Pooja", "Radha", "Soni"),
        ("Rahul", "Arjun", "Vikram", "Suresh", "Ramesh", "Imran", "Farhan", "Rajesh", "Anil",
         "Kiran", "Bikash", "Prakash", "Hidme"),
        ("Sharma", "Verma", "Singh", "Kumar", "Das", "Patel", "Nair", "Reddy", "Khan",
         "Hossain", "Rahman", "Chowdhury", "Thapa", "Gurung", "Shrestha", "Iyer", "Markam",
         "Chakma"),
    ),
    "id": (
        ("Siti", "Dewi", "Ayu", "Sri", "Rina", "Wulan", "Yuliana", "Maria"),
        ("Budi", "Agus", "Eko", "Yohanes", "Made", "Hendra", "Rudi", "Markus"),
        ("Santoso", "Wijaya", "Saputra", "Hidayat", "Nugroho", "Kurniawan", "Pratama",
         "Simanjuntak", "Sitorus", "Lubis", "Kogoya"),
    ),
    "th": (
        ("Suda", "Malee", "Siriporn", "Kanya", "Pranee", "Nok", "Ratree"),
        ("Somchai", "Anan", "Prasit", "Wichai", "Chai", "Somsak", "Thawee"),
        ("Saetang", "Boonmee", "Chaiyaporn", "Srisuk", "Thongdee", "Wongsa", "Kaewmanee",
         "Rattanakul"),
    ),
    "mm": (
        ("Thida", "Khin", "Su", "Nilar", "Ei", "Hnin", "May"),
        ("Aung", "Kyaw", "Min", "Zaw", "Htet", "Thiha", "Ko"),
        ("Win", "Myint", "Oo", "Aye", "Htun", "Lwin", "Naing", "Soe", "Zaw Lin", "Hlaing"),
    ),
    "kh": (
        ("Sokha", "Chanthy", "Sreymom", "Bopha", "Sreyneang", "Kalyan"),
        ("Sophal", "Vuthy", "Rithy", "Sokun", "Vannak", "Dara"),
        ("Chea", "Sok", "Heng", "Chan", "Kim", "Lim", "Meas", "Pich", "Ros", "Seng"),
    ),
    "east_south_africa": (
        ("Grace", "Wanjiru", "Akinyi", "Nakato", "Chipo", "Thandiwe", "Faith", "Nomvula",
         "Halima", "Nyasha"),
        ("John", "Otieno", "Kamau", "Mugisha", "Tendai", "Sipho", "Musa", "Baraka", "Brian",
         "Tatenda"),
        ("Mwangi", "Otieno", "Kamau", "Odhiambo", "Nakamya", "Okello", "Moyo", "Ncube",
         "Dlamini", "Nkosi", "Wekesa", "Chikwanha", "Mthembu"),
    ),
    "west_africa_en": (
        ("Ngozi", "Amina", "Funmilayo", "Chiamaka", "Blessing", "Aisha", "Ifeoma"),
        ("Chinedu", "Emeka", "Musa", "Tunde", "Ledum", "Ibrahim", "Obinna"),
        ("Okafor", "Adeyemi", "Eze", "Bello", "Nwosu", "Ogoni-Dube", "Abubakar", "Mitee",
         "Okonkwo"),
    ),
}  # fmt: skip
_ALT_SPELLINGS = {
    "Mohammed": ("Muhammad", "Mohamed"), "Ahmed": ("Ahmad",), "Youssef": ("Yusuf", "Yousef"),
    "Hassan": ("Hasan",), "Khaled": ("Khalid",), "Fatima": ("Fatma", "Fatema"),
    "Aisha": ("Aicha", "Ayesha"), "Mariam": ("Maryam",), "Layla": ("Leila",), "Nour": ("Noor",),
    "Huda": ("Houda",), "Zainab": ("Zeinab",), "Omar": ("Umar",), "Tariq": ("Tarek",),
    "Al-Masri": ("El-Masry",), "Abdelrahman": ("Abd al-Rahman",), "El-Sayed": ("Al-Sayyid",),
    "Hossein": ("Hussein",), "Reza": ("Rheza",), "Yelena": ("Elena",), "Sergei": ("Sergey",),
    "Alexei": ("Alexey", "Aleksei"), "Yuri": ("Yury", "Iurii"), "Dmitri": ("Dmitry",),
}  # fmt: skip
_NICKNAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # (for women, for men)
    "es": (("Doña {first}", "La Profe", "Comandanta {first}", "{first} del Río"),
           ("Don {first}", "El Profe", "{first} del Monte")),
    "pt": (("Dona {first}", "Tia {first}"), ("Seu {first}", "Tio {first}")),
    "fil": (("Ka {first}", "Nanay {first}"), ("Ka {first}", "Tatay {first}")),
}  # fmt: skip
_FEMININE_GENDERS = ("woman", "trans_woman")
# Spanish group names whose first noun is feminine (for "fue amenazada" vs "amenazado").
_FEMININE_NOUNS = frozenset(("Comunidad", "Asamblea", "Guardia", "Asociación", "Fundación",
                             "Corporación", "Red", "Resistencia"))  # fmt: skip

# --------------------------------------------------------------------------------------
# Sectors: weight for people, noun forms for titles and narratives, link to their work.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sector:
    weight: float
    en: str  # "land defender"
    es_f: str
    es_m: str
    work_en: str
    work_es: str
    group_en: str = "community collective"  # for collectives, in titles
    group_es: str = "colectivo comunitario"


SECTORS: dict[str, _Sector] = {
    "land": _Sector(14, "land defender", "defensora de la tierra", "defensor de la tierra",
                    "{Ref} has led the community's claim to its ancestral land for years.",
                    "{Ref} lleva años liderando la reclamación de tierras de su comunidad.",
                    "peasant community", "comunidad campesina"),
    "environment": _Sector(12, "environmental defender", "defensora ambiental",
                           "defensor ambiental",
                           "{Ref} has denounced the pollution of the river by mining.",
                           "{Ref} ha denunciado la contaminación del río por la minería.",
                           "environmental collective", "colectivo ambiental"),
    "indigenous_peoples": _Sector(11, "Indigenous leader", "lideresa indígena", "líder indígena",
                                  "{Ref} coordinates the Indigenous guard of the territory.",
                                  "{Ref} coordina la guardia indígena que protege el territorio.",
                                  "Indigenous community", "comunidad indígena"),
    "afro_descendant_communities": _Sector(
        4, "Afro-descendant leader", "lideresa afrodescendiente", "líder afrodescendiente",
        "{Ref} defends the collective land title of the Afro-descendant community.",
        "{Ref} defiende el título colectivo de la comunidad afrodescendiente.",
        "Afro-descendant community", "comunidad afrodescendiente"),
    "womens_rights": _Sector(9, "women's rights defender", "defensora de derechos de las mujeres",
                             "defensor de derechos de las mujeres",
                             "{Ref} runs a shelter for women survivors of violence.",
                             "{Ref} dirige un refugio para mujeres sobrevivientes de violencia.",
                             "women's collective", "colectivo de mujeres"),
    "sexual_reproductive_rights": _Sector(
        2, "sexual and reproductive rights defender", "defensora de derechos sexuales",
        "defensor de derechos sexuales",
        "{Ref} accompanies women seeking sexual and reproductive health services.",
        "{Ref} acompaña a mujeres que buscan servicios de salud sexual y reproductiva."),
    "lgbtiq_rights": _Sector(4, "LGBTIQ+ activist", "activista LGBTIQ+", "activista LGBTIQ+",
                             "{Ref} organises the local Pride march and supports trans people "
                             "facing violence.",
                             "{Ref} organiza la marcha del orgullo y apoya a personas trans que "
                             "sufren violencia.",
                             "LGBTIQ+ collective", "colectivo LGBTIQ+"),
    "labour_trade_unions": _Sector(6, "trade unionist", "sindicalista", "sindicalista",
                                   "{Ref} leads the union in its dispute over wages and safety.",
                                   "{Ref} lidera el sindicato en su conflicto por salarios y "
                                   "seguridad laboral.",
                                   "workers' committee", "comité de trabajadores"),
    "journalism_free_expression": _Sector(
        8, "journalist", "periodista", "periodista",
        "{Ref} had recently published an investigation into local corruption.",
        "{Ref} había publicado hace poco una investigación sobre corrupción local.",
        "community radio", "radio comunitaria"),
    "truth_justice": _Sector(6, "searcher for the disappeared", "buscadora de desaparecidos",
                             "buscador de desaparecidos",
                             "{Ref} searches for people who disappeared in the region.",
                             "{Ref} busca a personas desaparecidas en la región.",
                             "searching families' collective", "colectivo de búsqueda"),
    "anti_corruption_democracy": _Sector(
        4, "anti-corruption activist", "activista anticorrupción", "activista anticorrupción",
        "{Ref} monitors public contracts and reports irregularities.",
        "{Ref} vigila la contratación pública y denuncia irregularidades."),
    "peace": _Sector(3, "peace-building leader", "lideresa social", "líder social",
                     "{Ref} promotes the peace agreement in rural areas.",
                     "{Ref} impulsa la implementación del acuerdo de paz en zonas rurales."),
    "migrants_refugees": _Sector(3, "migrant rights defender", "defensora de personas migrantes",
                                 "defensor de personas migrantes",
                                 "{Ref} gives aid and legal advice to people on the move.",
                                 "{Ref} brinda ayuda humanitaria y asesoría legal a personas "
                                 "migrantes."),
    "minorities_religion": _Sector(2, "minority rights defender", "defensora de minorías",
                                   "defensor de minorías",
                                   "{Ref} documents discrimination against religious and ethnic "
                                   "minorities.",
                                   "{Ref} documenta la discriminación contra minorías religiosas "
                                   "y étnicas."),
    "housing_esc_rights": _Sector(2, "housing rights defender", "defensora de la vivienda",
                                  "defensor de la vivienda",
                                  "{Ref} resists forced evictions in informal settlements.",
                                  "{Ref} se opone a los desalojos forzosos en asentamientos "
                                  "informales.",
                                  "residents' committee", "comité de vecinos"),
    "childrens_rights": _Sector(1, "children's rights defender", "defensora de la niñez",
                                "defensor de la niñez",
                                "{Ref} denounces the recruitment of children by armed groups.",
                                "{Ref} denuncia el reclutamiento de niñas y niños por grupos "
                                "armados."),
    "disability_rights": _Sector(0.7, "disability rights defender",
                                 "defensora de personas con discapacidad",
                                 "defensor de personas con discapacidad",
                                 "{Ref} campaigns for the rights of people with disabilities.",
                                 "{Ref} defiende los derechos de las personas con discapacidad."),
    "legal_defence": _Sector(4, "human rights lawyer", "abogada de derechos humanos",
                             "abogado de derechos humanos",
                             "{Ref} represents defenders facing criminal charges.",
                             "{Ref} representa a personas defensoras criminalizadas."),
    "health": _Sector(1.5, "health rights defender", "defensora del derecho a la salud",
                      "defensor del derecho a la salud",
                      "{Ref} denounced shortages of medicines in public hospitals.",
                      "{Ref} denunció la falta de medicamentos en los hospitales públicos."),
    "digital_rights": _Sector(1.5, "digital rights defender", "defensora de derechos digitales",
                              "defensor de derechos digitales",
                              "{Ref} trains activists in digital security.",
                              "{Ref} capacita a activistas en seguridad digital."),
    "other": _Sector(0.5, "human rights defender", "defensora de derechos humanos",
                     "defensor de derechos humanos",
                     "{Ref} is a well-known human rights defender in the area.",
                     "{Ref} es una persona defensora conocida en la zona."),
}  # fmt: skip
_SECTOR_COMPANIONS: dict[str, tuple[str, ...]] = {
    "indigenous_peoples": ("land", "environment", "womens_rights"),
    "land": ("environment", "peace", "indigenous_peoples"),
    "environment": ("land", "health"),
    "afro_descendant_communities": ("land", "peace"),
    "womens_rights": ("sexual_reproductive_rights", "lgbtiq_rights", "truth_justice"),
    "sexual_reproductive_rights": ("womens_rights", "health"),
    "lgbtiq_rights": ("sexual_reproductive_rights", "health"),
    "journalism_free_expression": ("anti_corruption_democracy", "digital_rights"),
    "truth_justice": ("legal_defence", "peace"),
    "legal_defence": ("truth_justice", "labour_trade_unions", "land"),
    "labour_trade_unions": ("housing_esc_rights", "womens_rights"),
    "migrants_refugees": ("childrens_rights", "legal_defence"),
    "anti_corruption_democracy": ("journalism_free_expression", "digital_rights"),
}

# Organisation names: "{prefix} {word} {focus}" in Spanish, Portuguese and French,
# "{word} {focus}" in English. Focus: (es, pt, fr, en, sector).
_ORG_FOCUS: tuple[tuple[str, str, str, str, str], ...] = (
    ("de Derechos Humanos", "de Direitos Humanos", "pour les droits humains",
     "Human Rights Centre", "other"),
    ("por la Defensa del Territorio", "pela Terra e o Território", "pour la terre",
     "Land Rights Forum", "land"),
    ("de Abogadas y Abogados", "de Advocacia Popular", "des juristes solidaires",
     "Legal Aid Network", "legal_defence"),
    ("de Mujeres Defensoras", "de Mulheres Defensoras", "des femmes défenseures",
     "Women Defenders' Initiative", "womens_rights"),
    ("para la Libertad de Prensa", "pela Liberdade de Imprensa", "pour la liberté de la presse",
     "Press Freedom Project", "journalism_free_expression"),
    ("de Derechos Digitales", "de Direitos Digitais", "pour les droits numériques",
     "Digital Defenders Lab", "digital_rights"),
    ("de Memoria y Verdad", "de Memória e Verdade", "pour la vérité et la justice",
     "Truth and Memory Centre", "truth_justice"),
    ("por la Diversidad", "pela Diversidade", "pour la diversité",
     "Equality Collective", "lgbtiq_rights"),
    ("de Acompañamiento a Personas Migrantes", "de Apoio a Migrantes",
     "d'aide aux personnes migrantes", "Refugee Support Network", "migrants_refugees"),
    ("de Trabajadoras y Trabajadores", "dos Trabalhadores", "des travailleurs",
     "Workers' Alliance", "labour_trade_unions"),
    ("Ambiental", "Socioambiental", "pour l'environnement", "Environmental Watch",
     "environment"),
)  # fmt: skip
_ORG_PREFIXES = {
    "es": ("Fundación", "Corporación", "Asociación", "Red", "Centro", "Observatorio",
           "Colectivo"),
    "pt": ("Instituto", "Rede", "Associação", "Centro", "Coletivo"),
    "fr": ("Association", "Collectif", "Réseau", "Centre", "Ligue"),
}  # fmt: skip
_ORG_WORDS = {
    "es": ("Semilla", "Raíces", "Horizonte", "Alba", "Ceiba", "Colibrí", "Manantial",
           "Guayacán", "Cóndor", "Jaguar", "Tejido", "Brújula", "Caracol", "Yarumo"),
    "pt": ("Ipê", "Jatobá", "Aroeira", "Buriti", "Maracá", "Sabiá", "Caatinga", "Andiroba"),
    "fr": ("Baobab", "Horizon", "Lumière", "Sahel", "Étoile", "Fleuve", "Racines"),
    "fil": ("Bayanihan", "Liwanag", "Tanglaw", "Alon", "Sinag", "Kalinaw", "Habagat"),
    "ar": ("Al-Nour", "Al-Amal", "Karama", "Sawt", "Jusoor", "Haqq", "Nakheel"),
    "en": ("Riverstone", "Lantern", "Bridgewater", "Kestrel", "Northlight", "Meridian",
           "Harbour", "Cedar", "Beacon", "Thornfield", "Ubuntu", "Sunrise", "Lotus", "Banyan"),
}  # fmt: skip
_GENERIC_COLLECTIVES: dict[str, tuple[Template, ...]] = {
    "es": (("Colectivo de Mujeres de {place}", (WOM,)),
           ("Comité de Defensa del Agua de {place}", (ENV, LAND)),
           ("Asamblea Comunitaria de {place}", (LAND, HOUSE)),
           ("Sindicato de Trabajadores Agrícolas de {place}", (LAB, LAND))),
    "pt": (("Coletivo de Mulheres de {place}", (WOM,)),
           ("Associação de Pescadores de {place}", (ENV, LAB))),
    "fr": (("Collectif des paysans de {place}", (LAND,)),
           ("Comité des femmes de {place}", (WOM,))),
    "fil": (("Samahan ng Kababaihan ng {place}", (WOM,)),
            ("{place} Urban Poor Alliance", (HOUSE,))),
    "ar": (("{place} Fishermen's Committee", (LAB, ENV)),
           ("Jam'iyyat Nisa' {place}", (WOM,)),
           ("{place} Residents' Committee", (HOUSE,))),
    "en": (("{place} Land Defenders Collective", (LAND, ENV)),
           ("{place} Tenants' Union", (HOUSE,)),
           ("{place} Women's Collective", (WOM,)),
           ("{place} Workers' Committee", (LAB,))),
}  # fmt: skip

# --------------------------------------------------------------------------------------
# Acts: weights, companions, templates.
# --------------------------------------------------------------------------------------
# Primary act of an ordinary incident (killings and digital attacks are planned per year).
_BASE_ACTS = {
    "A02": 2.0, "A03": 0.8, "A04": 1.0, "A05": 0.7, "A06": 5.0, "A07": 0.8, "A08": 2.0,
    "A09": 13, "A10": 12, "A11": 9, "A12": 5, "A13": 4, "A14": 2.5, "A15": 23, "A16": 5.5,
    "A17": 2.5, "A18": 2.0, "A19": 9, "A21": 1.0, "A22": 2.0, "A23": 2.5, "A24": 1.5,
    "A25": 2.0, "A26": 1.5, "A27": 0.4, "A99": 0.3,
}  # fmt: skip
_ACT_BOOST_BY_SECTOR: dict[str, dict[str, float]] = {
    "journalism_free_expression": {"A19": 2, "A26": 4, "A12": 1.5, "A16": 2.5, "A22": 1.5},
    "labour_trade_unions": {"A24": 6, "A13": 1.5, "A25": 2.5, "A11": 1.3},
    "land": {"A22": 2.5, "A23": 2, "A09": 1.3, "A15": 1.2},
    "environment": {"A22": 2, "A23": 1.5, "A15": 1.3, "A16": 1.5},
    "indigenous_peoples": {"A22": 3, "A23": 2, "A09": 1.2},
    "afro_descendant_communities": {"A22": 3, "A23": 1.5},
    "womens_rights": {"A08": 3, "A07": 1.5, "A19": 1.5, "A10": 1.2},
    "sexual_reproductive_rights": {"A08": 2, "A19": 2, "A15": 1.5},
    "lgbtiq_rights": {"A19": 2, "A06": 1.5, "A08": 1.5, "A26": 1.5},
    "legal_defence": {"A15": 1.3, "A17": 2, "A18": 1.5, "A12": 1.5},
    "truth_justice": {"A09": 1.3, "A12": 1.5, "A03": 2.5},
    "anti_corruption_democracy": {"A15": 1.5, "A16": 2, "A19": 1.5, "A21": 2},
    "migrants_refugees": {"A15": 1.5, "A17": 1.5, "A13": 1.3},
    "housing_esc_rights": {"A23": 2, "A25": 2, "A22": 2},
    "digital_rights": {"A12": 2, "A26": 2, "A17": 1.5},
}
_ACT_BOOST_RESTRICTIVE = {"A13": 2, "A14": 2.5, "A15": 1.4, "A17": 2, "A18": 1.5, "A21": 3,
                          "A26": 2, "A27": 3, "A09": 0.6, "A22": 0.6, "A23": 0.5}  # fmt: skip
_ACT_BOOST_BY_KIND: dict[str, dict[str, float]] = {
    "collective": {"A22": 3, "A23": 2.5, "A25": 2, "A06": 1.2, "A08": 0.1, "A07": 0.3,
                   "A21": 0.05, "A24": 0.3, "A13": 0.5, "A14": 0.3, "A16": 0.5, "A26": 0.3,
                   "A05": 0.3, "A27": 0.1},
    "organisation": {"A17": 5, "A18": 3, "A16": 2, "A19": 1.5, "A12": 1.5, "A26": 1.5,
                     "A08": 0.05, "A06": 0.2, "A02": 0.05, "A05": 0.05, "A07": 0.02,
                     "A13": 0.1, "A14": 0.1, "A21": 0.05, "A03": 0.02, "A04": 0.05,
                     "A22": 0.3, "A24": 0.2, "A25": 0.2},
}  # fmt: skip
_ACT_BOOST_FEMININE = {"A08": 3, "A07": 1.5, "A19": 1.2}

# (companion act, probability): what else typically happens in the same incident.
_COMPANIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "A01": (("A23", 0.06), ("A05", 0.05)),
    "A02": (("A09", 0.25), ("A06", 0.2)),
    "A03": (("A05", 0.2),),
    "A04": (("A05", 0.25), ("A10", 0.2)),
    "A05": (("A14", 0.4), ("A13", 0.3)),
    "A06": (("A10", 0.2), ("A23", 0.1)),
    "A07": (("A06", 0.3), ("A10", 0.2)),
    "A08": (("A10", 0.2), ("A11", 0.15)),
    "A09": (("A10", 0.12), ("A12", 0.15), ("A11", 0.1)),
    "A10": (("A11", 0.15), ("A12", 0.12), ("A19", 0.08)),
    "A11": (("A12", 0.2), ("A10", 0.15), ("A19", 0.1)),
    "A12": (("A10", 0.15), ("A11", 0.1)),
    "A13": (("A15", 0.55), ("A14", 0.25), ("A06", 0.15), ("A05", 0.05)),
    "A14": (("A15", 0.6), ("A05", 0.08), ("A21", 0.05)),
    "A15": (("A19", 0.2), ("A13", 0.15), ("A17", 0.05)),
    "A16": (("A19", 0.3),),
    "A17": (("A18", 0.1), ("A19", 0.15), ("A15", 0.1)),
    "A18": (("A15", 0.3), ("A13", 0.2), ("A23", 0.2), ("A12", 0.1)),
    "A19": (("A10", 0.15), ("A11", 0.1), ("A08", 0.06)),
    "A20": (("A19", 0.3), ("A10", 0.15), ("A08", 0.1), ("A12", 0.1)),
    "A21": (("A15", 0.3), ("A17", 0.2)),
    "A22": (("A09", 0.3), ("A23", 0.3), ("A10", 0.15)),
    "A23": (("A10", 0.25), ("A22", 0.1)),
    "A24": (("A11", 0.2), ("A19", 0.1)),
    "A25": (("A06", 0.3), ("A13", 0.3), ("A15", 0.1)),
    "A26": (("A19", 0.2), ("A17", 0.15), ("A15", 0.1)),
    "A27": (("A21", 0.2), ("A15", 0.2), ("A19", 0.2)),
    "A99": (),
}
_FAMILY_ACTS = ("A09", "A10", "A10", "A06", "A12", "A11", "A04")
_COLLECTIVE_OK = frozenset(
    ("A06", "A09", "A10", "A11", "A13", "A15", "A18", "A19", "A22", "A23", "A24", "A25")
)
_CAMPAIGN_ACTS = frozenset(("A11", "A12", "A14", "A19", "A20", "A22"))
_SEVERE = frozenset(("A01", "A02", "A03", "A04", "A05", "A07", "A09"))
_GROUP_SECTORS = frozenset((LAND, ENV, IND, AFRO, LAB, HOUSE))
_ONLINE = {"A20": (0.0, 1.0, 0.0), "A08": (0.45, 0.45, 0.1), "A19": (0.2, 0.55, 0.25),
           "A10": (0.72, 0.2, 0.08), "A09": (0.72, 0.2, 0.08), "A11": (0.65, 0.2, 0.15),
           "A12": (0.85, 0.15, 0.0), "A26": (0.5, 0.5, 0.0), "A27": (0.9, 0.1, 0.0)}  # fmt: skip
_MODALITIES = ("in_person", "online", "both")

# Gender lens: (probability the act is gender-specific against a woman, features to pick)
_GENDERED: dict[str, tuple[float, tuple[str, ...]]] = {
    "A07": (1.0, ("sexualised_content",)),
    "A08": (1.0, ("sexualised_content", "intimate_images_deepfakes")),
    "A10": (0.4, ("rape_threat", "sexualised_content", "motherhood_family_role",
                  "children_or_partner_targeted")),
    "A09": (0.25, ("rape_threat", "children_or_partner_targeted")),
    "A19": (0.5, ("reputation_morality_honour", "sexualised_content", "motherhood_family_role")),
    "A20": (0.5, ("sexualised_content", "intimate_images_deepfakes", "reputation_morality_honour",
                  "rape_threat")),
    "A11": (0.3, ("reputation_morality_honour", "sexualised_content")),
    "A06": (0.15, ("reputation_morality_honour",)),
    "A15": (0.1, ("motherhood_family_role", "reputation_morality_honour")),
    "A22": (0.15, ("motherhood_family_role",)),
    "A01": (0.2, ("sexualised_content", "reputation_morality_honour")),
}  # fmt: skip
_GENDERED_DEFAULT = (0.08, ("reputation_morality_honour",))
_OUTING_ACTS = frozenset(("A10", "A11", "A19", "A20", "A06"))
_OWN_CIRCLE = frozenset(("family_intimate_partner", "community_members", "own_movement"))

_TITLES: dict[str, tuple[str, str]] = {
    "A01": ("Killing of", "Asesinato de"),
    "A02": ("Attempted killing of", "Intento de asesinato de"),
    "A03": ("Enforced disappearance of", "Desaparición forzada de"),
    "A04": ("Abduction of", "Secuestro de"),
    "A05": ("Torture of", "Tortura contra"),
    "A06": ("Physical assault on", "Agresión física contra"),
    "A07": ("Sexual violence against", "Violencia sexual contra"),
    "A08": ("Sexual harassment of", "Acoso sexual contra"),
    "A09": ("Death threat against", "Amenaza de muerte contra"),
    "A10": ("Threats against", "Amenazas contra"),
    "A11": ("Harassment of", "Hostigamiento contra"),
    "A12": ("Surveillance of", "Vigilancia contra"),
    "A13": ("Arbitrary arrest of", "Detención arbitraria de"),
    "A14": ("Arbitrary detention of", "Privación arbitraria de la libertad de"),
    "A15": ("Criminal charges against", "Criminalización de"),
    "A16": ("SLAPP lawsuit against", "Demanda SLAPP contra"),
    "A17": ("Administrative harassment of", "Hostigamiento administrativo contra"),
    "A18": ("Raid against", "Allanamiento contra"),
    "A19": ("Smear campaign against", "Campaña de desprestigio contra"),
    "A20": ("Digital attack on", "Ataque digital contra"),
    "A21": ("Travel ban on", "Prohibición de viajar contra"),
    "A22": ("Forced displacement of", "Desplazamiento forzado de"),
    "A23": ("Destruction of property of", "Daños a bienes de"),
    "A24": ("Dismissal of", "Despido de"),
    "A25": ("Excessive force against", "Uso excesivo de la fuerza contra"),
    "A26": ("Censorship of", "Censura contra"),
    "A27": ("Reprisal for UN cooperation against", "Represalia por cooperar con la ONU contra"),
    "A99": ("Attack on", "Agresión contra"),
}

# Event sentences: {victim} {perp} {place}; Spanish adds {o} for gender agreement.
_EVENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "A01": (("{victim} was shot dead by {perp} near {place}",
             "{victim} was killed in {place}; the body showed signs of violence"),
            ("{victim} fue asesinad{o} por {perp} cerca de {place}",
             "{victim} fue asesinad{o} en {place}; el cuerpo presentaba señales de violencia")),
    "A02": (("{victim} survived an attack by {perp} who opened fire near {place}",),
            ("{victim} sobrevivió a un ataque armado de {perp} en {place}",)),
    "A03": (("{victim} was taken away by {perp} in {place} and has not been seen since",),
            ("{victim} fue llevad{o} por {perp} en {place} y se desconoce su paradero",)),
    "A04": (("{victim} was abducted by {perp} on the road to {place} and held for days",),
            ("{victim} fue secuestrad{o} por {perp} en la vía hacia {place}",)),
    "A05": (("{victim} was beaten and tortured by {perp} while held in {place}",),
            ("{victim} fue torturad{o} por {perp} mientras estaba detenid{o} en {place}",)),
    "A06": (("{victim} was beaten by {perp} in {place}",
             "{perp} attacked {victim} with sticks and machetes in {place}"),
            ("{victim} fue agredid{o} físicamente por {perp} en {place}",
             "{victim} fue atacad{o} con palos y machetes por {perp} en {place}")),
    "A07": (("{victim} was sexually assaulted by {perp} in {place}",),
            ("{victim} sufrió violencia sexual por parte de {perp} en {place}",)),
    "A08": (("{victim} received sexualised messages and unwanted advances from {perp}",),
            ("{victim} recibió mensajes sexualizados y acoso de {perp}",)),
    "A09": (("{victim} received a death threat from {perp}, who demanded they leave {place}",
             "a pamphlet signed by {perp} declared {victim} a military target in {place}",
             "{perp} told {victim} by phone that they would be killed if they stayed in {place}"),
            ("{victim} recibió una amenaza de muerte de {perp}, que le exigía abandonar {place}",
             "un panfleto firmado por {perp} declaró objetivo militar a {victim} en {place}",
             "{victim} recibió una llamada de {perp}: sería asesinad{o} si seguía en "
             "{place}")),
    "A10": (("{victim} was threatened by {perp} in {place}",
             "{perp} warned {victim} to stop their work in {place}"),
            ("{victim} fue amenazad{o} por {perp} en {place}",
             "{victim} recibió advertencias de {perp} para que dejara su trabajo en {place}")),
    "A11": (("{victim} was repeatedly followed and harassed by {perp} in {place}",),
            ("{victim} fue hostigad{o} y seguid{o} repetidamente por {perp} en {place}",)),
    "A12": (("{victim} noticed {perp} watching their home and photographing visitors in {place}",
             "{victim} found out that {perp} had been tracking their phone"),
            ("{victim} detectó vigilancia de {perp} frente a su casa en {place}",
             "{victim} descubrió que su teléfono era rastreado por {perp}")),
    "A13": (("{victim} was arrested without a warrant by {perp} in {place}",),
            ("{victim} fue detenid{o} sin orden judicial por {perp} en {place}",)),
    "A14": (("{victim} was held in pre-trial detention in {place} for weeks without a lawyer",),
            ("{victim} permaneció en prisión preventiva en {place} durante semanas sin "
             "abogado",)),
    "A15": (("prosecutors in {place} charged {victim} with rebellion and obstruction of roads",
             "criminal charges of 'land invasion' were filed against {victim} in {place}",
             "{victim} was charged with terrorism financing after a complaint by {perp}"),
            ("la fiscalía en {place} imputó a {victim} los delitos de rebelión y obstrucción "
             "de vías",
             "se abrió un proceso penal por 'usurpación' contra {victim} en {place}",
             "{victim} fue acusad{o} de financiar el terrorismo tras una denuncia de {perp}")),
    "A16": (("{perp} sued {victim} for defamation, seeking damages far beyond their means",),
            ("{victim} enfrenta una demanda por difamación de {perp} con una indemnización "
             "desproporcionada",)),
    "A17": (("the authorities froze the bank accounts of {victim} and opened repeated tax audits",
             "the registration of {victim} was suspended over an alleged paperwork error"),
            ("las autoridades congelaron las cuentas de {victim} y abrieron auditorías "
             "fiscales",
             "se suspendió el registro legal de {victim} por un supuesto error de trámite")),
    "A18": (("{perp} raided the premises of {victim} in {place} and seized phones and files",),
            ("la sede de {victim} en {place} fue allanada por {perp} y se incautaron "
             "teléfonos y archivos",)),
    "A19": (("{perp} accused {victim} of being a criminal and an enemy of development",
             "{perp} labelled {victim} a terrorist on radio and social media"),
            ("{victim} fue acusad{o} públicamente por {perp} de ser criminal y enemig{o} del "
             "desarrollo",
             "{victim} fue señalad{o} como terrorista por {perp} en la radio y en redes "
             "sociales")),
    "A20": (("the social-media accounts of {victim} were hacked and personal data was "
             "published online",
             "a coordinated campaign of online abuse targeted {victim}, with hundreds of "
             "messages in a single day",
             "the home address of {victim} was published online alongside threatening "
             "messages"),
            ("las cuentas en redes sociales de {victim} fueron hackeadas y se publicaron sus "
             "datos personales",
             "una campaña coordinada de acoso en línea atacó a {victim} con cientos de "
             "mensajes en un solo día",
             "se publicó en internet la dirección de {victim} junto con mensajes "
             "amenazantes")),
    "A21": (("{victim} was stopped at the airport and told of a ban on leaving the country",),
            ("{victim} fue retenid{o} en el aeropuerto y se le notificó una prohibición de "
             "salir del país",)),
    "A22": (("{victim} had to leave {place} after repeated threats by {perp}",),
            ("{victim} tuvo que abandonar {place} tras las amenazas reiteradas de {perp}",)),
    "A23": (("{perp} burned crops and destroyed the property of {victim} in {place}",),
            ("cultivos y bienes de {victim} fueron destruidos por {perp} en {place}",)),
    "A24": (("{victim} was dismissed after organising workers in {place}",),
            ("{victim} fue despedid{o} tras organizar a trabajadores en {place}",)),
    "A25": (("police used tear gas and rubber bullets against {victim} during a peaceful "
             "protest in {place}",),
            ("la policía usó gases lacrimógenos y balas de goma contra {victim} durante una "
             "protesta pacífica en {place}",)),
    "A26": (("the reporting of {victim} was taken offline and a radio programme in {place} "
             "was shut down",),
            ("se censuró el trabajo de {victim} y se cerró un programa de radio en {place}",)),
    "A27": (("{victim} was interrogated after speaking at a UN session about {place}",),
            ("{victim} fue interrogad{o} tras intervenir ante la ONU sobre la situación en "
             "{place}",)),
    "A99": (("{victim} suffered an attack in {place} that fits no other category",),
            ("{victim} sufrió en {place} una agresión que no encaja en otra categoría",)),
}  # fmt: skip
_FAMILY_EVENTS: dict[str, tuple[str, str]] = {
    "A09": ("{cp}, {rel_en} of {ref}, also received a death threat.",
            "{cp}, {rel_es} de {ref}, también recibió una amenaza de muerte."),
    "A10": ("Threats were also made against {cp}, {rel_en} of {ref}.",
            "También se amenazó a {cp}, {rel_es} de {ref}."),
    "A06": ("{cp}, {rel_en} of {ref}, was beaten during the same attack.",
            "{cp}, {rel_es} de {ref}, fue golpead{o_cp} en el mismo ataque."),
    "A12": ("Unknown men were seen following {cp}, {rel_en} of {ref}.",
            "Hombres desconocidos siguieron a {cp}, {rel_es} de {ref}."),
    "A11": ("{cp}, {rel_en} of {ref}, was harassed at home and at school or work.",
            "{cp}, {rel_es} de {ref}, fue hostigad{o_cp} en su casa y en su escuela o trabajo."),
    "A04": ("{cp}, {rel_en} of {ref}, was briefly abducted to pressure the defender.",
            "{cp}, {rel_es} de {ref}, fue secuestrad{o_cp} brevemente para presionar."),
}  # fmt: skip
# Relation words kept in the close person's notes: (relation, en, es, Spanish agreement)
_RELATION_WORDS: dict[str, tuple[str, str, str, str]] = {
    "Daughter": ("child", "the daughter", "hija", "a"),
    "Son": ("child", "the son", "hijo", "o"),
    "Wife": ("partner", "the wife", "esposa", "a"),
    "Husband": ("partner", "the husband", "esposo", "o"),
    "Partner": ("partner", "the partner", "pareja", "a"),
    "Mother": ("parent", "the mother", "madre", "a"),
    "Father": ("parent", "the father", "padre", "o"),
    "Sister": ("other_family", "the sister", "hermana", "a"),
    "Brother": ("other_family", "the brother", "hermano", "o"),
    "Colleague": ("colleague", "a colleague", "colega", "o"),
}
_FAMILY_RELATIONS = ("child", "partner", "parent", "other_family")

_CONTEXT: tuple[tuple[str, str, str], ...] = (
    # (English, Spanish, when: any | alive | previous | online | collective)
    ("The attack came days after a community assembly in {place}.",
     "La agresión ocurrió días después de una asamblea comunitaria en {place}.", "any"),
    ("Neighbours said the same men had been asking about {ref} the week before.",
     "Vecinos dijeron que los mismos hombres habían preguntado por {ref} la semana anterior.",
     "any"),
    ("No one has been charged so far.", "Hasta la fecha nadie ha sido procesado.", "any"),
    ("Local organisations condemned the attack and demanded an investigation.",
     "Organizaciones locales condenaron la agresión y exigieron una investigación.", "any"),
    ("The complaint was filed with the prosecutor's office, which has not opened an "
     "investigation.",
     "La denuncia se presentó ante la fiscalía, que no ha abierto una investigación.", "any"),
    ("{Ref} has since reduced public activities and changed daily routes.",
     "{Ref} redujo desde entonces sus actividades públicas y cambió sus rutas.", "alive"),
    ("{Ref} asked the national protection mechanism for urgent measures.",
     "{Ref} solicitó medidas urgentes al mecanismo nacional de protección.", "alive"),
    ("{Ref} had reported earlier threats to the authorities without any response.",
     "{Ref} había denunciado amenazas previas ante las autoridades sin obtener respuesta.",
     "previous"),
    ("The messages continued for several weeks on different platforms.",
     "Los mensajes continuaron durante varias semanas en distintas plataformas.", "online"),
    ("Several accounts that spread the attack had been created the same week.",
     "Varias cuentas que difundieron el ataque habían sido creadas esa misma semana.",
     "online"),
    ("{n} people were affected, among them elders and children.",
     "{n} personas resultaron afectadas, entre ellas personas mayores, niñas y niños.",
     "collective"),
)  # fmt: skip
_SOURCE_PHRASES: dict[str, tuple[str, str]] = {
    "victim_testimony": ("the testimony of the victim", "el testimonio de la víctima"),
    "witness_testimony": ("witness accounts", "el relato de testigos"),
    "relative": ("relatives of the victim", "familiares de la víctima"),
    "colleague_own_organisation": ("the defender's own organisation",
                                   "la propia organización de la persona defensora"),
    "partner_ngo": ("a partner organisation", "una organización aliada"),
    "lawyer": ("the victim's lawyer", "la defensa legal de la víctima"),
    "medical_report": ("a medical report", "un informe médico"),
    "court_record": ("the court file", "el expediente judicial"),
    "official_statement": ("an official statement", "un comunicado oficial"),
    "media_report": ("local media reports", "medios de comunicación locales"),
    "social_media_post": ("posts on social media", "publicaciones en redes sociales"),
    "screenshot": ("screenshots kept by the victim", "capturas de pantalla de la víctima"),
    "web_archive": ("archived copies of the web pages", "copias archivadas de las páginas web"),
    "audio": ("an audio recording", "una grabación de audio"),
    "video": ("a video recording", "una grabación de video"),
    "photo": ("photographs taken at the scene", "fotografías tomadas en el lugar"),
    "other": ("other documentation", "otra documentación"),
}  # fmt: skip
_MARKER_SENTENCES = (
    "Witnesses said the attackers had gathered beside the Quetzalcoatl mural near the "
    "community centre.",
    "Según testigos, los agresores se habían reunido junto al mural de Quetzalcoatl cerca del "
    "centro comunitario.",
)
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip
_MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")  # fmt: skip

# --------------------------------------------------------------------------------------
# Perpetrators, sources, interventions.
# --------------------------------------------------------------------------------------
_PERP_GROUPS: dict[str, dict[str, float]] = {
    "violent": {"unknown": 25, "paramilitaries_vigilantes": 10, "organised_crime": 12,
                "private_security": 6, "landowners": 5, "police": 6, "armed_forces": 5,
                "armed_opposition_groups": 0.5, "company_national": 3, "community_members": 3,
                "crowd_mob": 2, "local_officials": 3},
    "state": {"police": 30, "armed_forces": 12, "intelligence_services": 8,
              "prison_officials": 4, "judiciary_prosecutors": 5, "national_officials": 3,
              "local_officials": 3, "private_security": 2, "unknown": 3},
    "legal": {"judiciary_prosecutors": 30, "national_officials": 12, "local_officials": 8,
              "company_national": 8, "company_transnational": 5, "police": 5, "legislature": 3,
              "intelligence_services": 2},
    "speech": {"anonymous_online_accounts": 12, "unknown": 15, "media_outlets": 5,
               "national_officials": 6, "local_officials": 6, "company_national": 4,
               "community_members": 5, "own_movement": 3, "family_intimate_partner": 2,
               "religious_authorities": 2, "intelligence_services": 3, "police": 4,
               "private_security": 3, "organised_crime": 4, "paramilitaries_vigilantes": 3},
    "sexual": {"family_intimate_partner": 10, "community_members": 10, "police": 8,
               "armed_forces": 6, "own_movement": 6, "unknown": 10,
               "anonymous_online_accounts": 6, "paramilitaries_vigilantes": 4,
               "local_officials": 4},
    "labour": {"company_national": 30, "company_transnational": 15, "local_officials": 8,
               "national_officials": 6, "private_security": 6},
}  # fmt: skip
_ACT_PERP_GROUP = {
    **dict.fromkeys(("A01", "A02", "A04", "A06", "A09", "A22", "A23"), "violent"),
    **dict.fromkeys(("A03", "A05", "A13", "A14", "A18", "A25"), "state"),
    **dict.fromkeys(("A15", "A16", "A17", "A21", "A26", "A27"), "legal"),
    **dict.fromkeys(("A10", "A11", "A12", "A19", "A20", "A99"), "speech"),
    **dict.fromkeys(("A07", "A08"), "sexual"),
    "A24": "labour",
}
_PERP_BOOST_BY_ACT: dict[str, dict[str, float]] = {
    "A16": {"company_national": 5, "company_transnational": 5, "judiciary_prosecutors": 0.2},
    "A20": {"anonymous_online_accounts": 5, "intelligence_services": 2},
    "A19": {"media_outlets": 3, "anonymous_online_accounts": 2, "national_officials": 1.5},
    "A12": {"intelligence_services": 4},
    "A05": {"prison_officials": 3},
    "A14": {"prison_officials": 3, "judiciary_prosecutors": 3},
    "A08": {"anonymous_online_accounts": 2},
}
_PERP_BOOST_BY_COUNTRY: dict[str, dict[str, float]] = {
    "CO": {"paramilitaries_vigilantes": 3, "armed_opposition_groups": 20},
    "MX": {"organised_crime": 3, "local_officials": 1.5},
    "BR": {"landowners": 3, "private_security": 1.5},
    "HN": {"private_security": 2, "company_national": 2},
    "GT": {"private_security": 2, "company_transnational": 2},
    "PH": {
        "armed_forces": 3,
        "police": 2,
        "paramilitaries_vigilantes": 1.5,
        "armed_opposition_groups": 6,
    },
    "MM": {"armed_forces": 4, "armed_opposition_groups": 8},
    "CD": {"armed_opposition_groups": 12, "armed_forces": 2},
    "CM": {"armed_opposition_groups": 8, "armed_forces": 2},
    "SY": {"armed_opposition_groups": 8, "armed_forces": 2},
    "IN": {"police": 1.5, "company_national": 2},
}
_RESTRICTIVE_PERP_BOOST = {"police": 2, "intelligence_services": 3, "national_officials": 2,
                           "judiciary_prosecutors": 1.5, "paramilitaries_vigilantes": 0.3,
                           "organised_crime": 0.3, "armed_opposition_groups": 0.2}  # fmt: skip
_PERP_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "unknown": (
        "Two unidentified men on a motorbike",
        "Armed men with covered faces",
        "Unidentified attackers",
    ),
    "paramilitaries_vigilantes": (
        "Members of an armed group that controls the area",
        "Men who identified themselves as a self-defence group",
    ),
    "organised_crime": ("A local criminal group", "Men linked to a drug-trafficking network"),
    "private_security": ("Guards employed by the company", "Private security of the estate"),
    "landowners": ("A local landowner and his workers",),
    "police": ("Officers of the municipal police", "Riot police", "Plain-clothes officers"),
    "armed_forces": ("Soldiers of a battalion deployed in the area", "Military personnel"),
    "intelligence_services": ("Agents who did not identify themselves",),
    "anonymous_online_accounts": (
        "Anonymous and newly created accounts",
        "A network of coordinated accounts",
    ),
    "media_outlets": ("A local radio presenter", "A national television programme"),
    "judiciary_prosecutors": ("The local prosecutor's office", "A criminal court"),
    "national_officials": ("A government minister", "Officials of the interior ministry"),
    "local_officials": ("The mayor's office", "A municipal councillor"),
    "community_members": ("Some members of the community",),
    "own_movement": ("A member of the defender's own organisation",),
    "family_intimate_partner": ("A relative of the victim",),
    "crowd_mob": ("A crowd mobilised against the defenders",),
    "armed_opposition_groups": ("A dissident armed group",),
    "prison_officials": ("Prison guards",),
    "legislature": ("Members of parliament",),
    "religious_authorities": ("A local religious leader",),
    "company_national": ("Managers of the company",),
    "company_transnational": ("Representatives of the company",),
}
_PERP_PHRASES: dict[str, tuple[str, str]] = {
    "unknown": ("unidentified men", "hombres no identificados"),
    "paramilitaries_vigilantes": ("a paramilitary group", "un grupo paramilitar"),
    "organised_crime": ("a criminal group", "un grupo criminal"),
    "private_security": ("private security guards", "guardias de seguridad privada"),
    "landowners": ("a local landowner's men", "hombres de un terrateniente"),
    "police": ("police officers", "agentes de policía"),
    "armed_forces": ("soldiers", "militares"),
    "intelligence_services": ("intelligence agents", "agentes de inteligencia"),
    "anonymous_online_accounts": ("anonymous accounts", "cuentas anónimas"),
    "media_outlets": ("local media", "medios locales"),
    "judiciary_prosecutors": ("prosecutors", "fiscales"),
    "national_officials": ("government officials", "funcionarios del gobierno"),
    "local_officials": ("local officials", "autoridades locales"),
    "community_members": ("some community members", "algunos miembros de la comunidad"),
    "own_movement": ("members of the defender's own movement",
                     "integrantes de su propio movimiento"),
    "family_intimate_partner": ("a relative", "un familiar"),
    "crowd_mob": ("a mob", "una turba"),
    "armed_opposition_groups": ("an armed opposition group", "un grupo armado ilegal"),
    "prison_officials": ("prison guards", "guardias penitenciarios"),
    "legislature": ("members of parliament", "legisladores"),
    "religious_authorities": ("a religious leader", "un líder religioso"),
    "company_national": ("a company", "una empresa"),
    "company_transnational": ("a transnational company", "una empresa transnacional"),
    "other": ("others", "otras personas"),
}  # fmt: skip
_COMPANIES: tuple[tuple[str, str, bool], ...] = (
    # (name, business sector, transnational)
    ("Minera Cerro Alto S.A. (DEMO)", "Mining", False),
    ("Palmas del Río Verde S.A.S. (DEMO)", "Agribusiness (palm oil)", False),
    ("Hidroeléctrica Los Sauces (DEMO)", "Hydropower", False),
    ("Petróleos del Llano (DEMO)", "Oil and gas", False),
    ("Maderas del Norte (DEMO)", "Logging", False),
    ("Agropecuaria La Esperanza (DEMO)", "Cattle ranching", False),
    ("Textiles Aurora (DEMO)", "Garment manufacturing", False),
    ("Costa Serena Resorts (DEMO)", "Tourism", False),
    ("Northbridge Mining Ltd (DEMO)", "Mining", True),
    ("Sunfield Agro Holdings (DEMO)", "Agribusiness (soy and cattle)", True),
    ("Bluewater Energy plc (DEMO)", "Oil and gas", True),
    ("Verdant Power Corp (DEMO)", "Renewable energy (wind)", True),
    ("Harbour Line Logistics (DEMO)", "Ports and logistics", True),
    ("Greenleaf Nickel Inc (DEMO)", "Mining (transition minerals)", True),
)
_BASE_SOURCES = {
    "victim_testimony": 25, "witness_testimony": 12, "relative": 4,
    "colleague_own_organisation": 10, "partner_ngo": 12, "lawyer": 5, "media_report": 12,
    "social_media_post": 5, "official_statement": 3, "court_record": 2, "medical_report": 1,
    "screenshot": 2, "photo": 3, "video": 2, "audio": 1, "web_archive": 1, "other": 1,
}  # fmt: skip
_SOURCE_BOOST: dict[str, dict[str, float]] = {
    "A20": {"screenshot": 8, "social_media_post": 4, "web_archive": 6},
    "A19": {"social_media_post": 3, "media_report": 2, "web_archive": 2},
    "A08": {"screenshot": 4},
    "A15": {"court_record": 10, "lawyer": 4, "official_statement": 2},
    "A16": {"court_record": 10, "lawyer": 4},
    "A13": {"court_record": 4, "lawyer": 3, "official_statement": 2},
    "A14": {"court_record": 6, "lawyer": 4},
    "A17": {"official_statement": 5},
    "A01": {"relative": 5, "media_report": 2, "official_statement": 3, "victim_testimony": 0},
    "A03": {"relative": 6, "victim_testimony": 0},
    "A02": {"medical_report": 8}, "A05": {"medical_report": 8}, "A06": {"medical_report": 6},
    "A07": {"medical_report": 6}, "A25": {"video": 5, "photo": 3},
    "A23": {"photo": 5}, "A12": {"photo": 2, "video": 2},
}  # fmt: skip
_RELIABILITY: dict[str, dict[str, float]] = {
    "default": {"highly_reliable": 25, "likely_reliable": 40, "unsure": 20,
                "likely_unreliable": 5, "highly_unreliable": 2, "unknown": 8},
    "court_record": {"highly_reliable": 80, "likely_reliable": 20},
    "medical_report": {"highly_reliable": 75, "likely_reliable": 25},
    "media_report": {"highly_reliable": 10, "likely_reliable": 45, "unsure": 35,
                     "likely_unreliable": 10},
    "social_media_post": {"likely_reliable": 20, "unsure": 50, "likely_unreliable": 20,
                          "unknown": 10},
}  # fmt: skip
_SOURCE_DESCRIPTIONS = (
    "Interview in person two days after the events.", "Interview by phone.",
    "Written statement sent through a secure channel.", "Notes from a field visit.",
    "Copy kept in the sealed evidence store.", "Summary prepared by the regional team.",
)  # fmt: skip
_INTERVENERS = (
    "Urgent appeal to the UN Special Rapporteur on human rights defenders",
    "Request to the national protection mechanism",
    "Letter to the prosecutor's office",
    "Emergency relocation grant from a partner fund",
    "Digital security support from a helpline",
    "Legal representation by a partner lawyer",
    "Joint statement by national organisations",
    "Meeting with an embassy human rights officer",
)
_AMERICAS_INTERVENER = "Request for precautionary measures to the Inter-American Commission"
_RESPONSES = (
    "Protection measures granted (phone and escort).", "Acknowledged receipt; no measures yet.",
    "No response received.", "Investigation opened; no progress reported.",
    "Temporary relocation for three months.", "Accounts recovered and secured.",
    "Charges dropped after the hearing.", "Measures granted but not implemented.",
)  # fmt: skip
_STATUS = {"pending": 25, "continuing": 30, "token_action": 15, "no_action": 15, "closed": 15}


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------
def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _allocate(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainders), each at least
    ``minimum`` while the total allows it."""
    n = len(weights)
    floor = minimum if total >= minimum * n else 0
    rest = total - floor * n
    wsum = sum(weights) or 1.0
    raw = [rest * w / wsum for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(n), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [c + floor for c in counts]


@functools.cache
def _check_vocabulary() -> None:
    """Every code this module writes must exist; fail loudly here, not row by row later."""
    vocab = load_vocabularies()
    wanted: dict[str, set[str]] = {
        "countries": {c.code for c in COUNTRIES} | set(_MIGRATION.values()),
        "act_types": set(_BASE_ACTS) | set(_TITLES) | {"A01", "A20"},
        "sectors": set(SECTORS),
        "perpetrator_types": {p for g in _PERP_GROUPS.values() for p in g}
        | set(_PERP_PHRASES),
        "source_types": set(_BASE_SOURCES) | set(_SOURCE_PHRASES),
        "reliability": {r for table in _RELIABILITY.values() for r in table},
        "intervention_status": set(_STATUS),
        "target_relations": {r[0] for r in _RELATION_WORDS.values()}
        | {"defender", "organisation", "community"},
        "gender_features": {f for _, fs in _GENDERED.values() for f in fs}
        | {"outing", "perpetrator_own_circle", "children_or_partner_targeted",
           "motherhood_family_role"},
    }  # fmt: skip
    for name, codes in wanted.items():
        unknown = sorted(codes - set(vocab[name].codes))
        if unknown:
            raise DemoError(f"demo data uses codes missing from vocabulary {name!r}: {unknown}")


def _date_text(day: date, precision: str, lang: str) -> str:
    if lang == "es":
        month, full = _MONTHS_ES[day.month - 1], f"{day.day} de {_MONTHS_ES[day.month - 1]}"
        return {
            "exact": f"El {full} de {day.year}",
            "estimate": f"Hacia el {full} de {day.year}",
            "unknown_day": f"En {month} de {day.year}",
        }.get(precision, f"En {day.year}")
    month = _MONTHS_EN[day.month - 1]
    return {
        "exact": f"On {day.day} {month} {day.year}",
        "estimate": f"Around {day.day} {month} {day.year}",
        "unknown_day": f"In {month} {day.year}",
    }.get(precision, f"In {day.year}")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------
# Defenders
# --------------------------------------------------------------------------------------
class _Names:
    """Composes people's and groups' names, never the same display name twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(30):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        base, n = make(), 2
        while f"{base} {n}" in self.used:
            n += 1
        self.used.add(f"{base} {n}")
        return f"{base} {n}"

    def person(self, culture: str, feminine: bool | None) -> tuple[str, str, str, str]:
        """(display name, legal name, first name, family name)."""
        rng = self.rng
        female, male, surnames = _NAMES[culture]
        fem = rng.random() < 0.5 if feminine is None else feminine
        firsts = female if fem else male
        parts: dict[str, str] = {}

        def make() -> str:
            first = rng.choice(firsts)
            last = rng.choice(surnames)
            if culture == "slavic" and fem:
                last = _feminine_slavic(last)
            parts.update(first=first, last=last)
            return f"{first} {last}"

        display = self._unique(make)
        first, last = parts["first"], parts["last"]
        if culture in ("es", "pt"):
            middle = rng.choice(firsts)
            second = rng.choice(surnames)
            legal = (
                f"{first} {middle} {last} {second}"
                if culture == "es"
                else f"{first} {middle} {second} {last}"
            )
        elif culture in ("en", "fil", "east_south_africa", "west_africa_en", "id"):
            legal = f"{first} {rng.choice(firsts)} {last}"
        else:
            legal = display
        return display, legal, first, last

    def collective(self, country: _Country, region: str) -> tuple[str, Sectors]:
        rng = self.rng
        templates = country.collectives + _GENERIC_COLLECTIVES.get(
            country.culture, _GENERIC_COLLECTIVES["en"]
        )
        chosen: list[Template] = []

        def make() -> str:
            template = rng.choice(templates)
            places = dict(country.regions)[region]
            chosen[:] = [template]
            return template[0].format(place=rng.choice(places))

        name = self._unique(make)
        return name, chosen[0][1]

    def organisation(self, country: _Country) -> tuple[str, str]:
        rng = self.rng
        focus: list[tuple[str, str, str, str, str]] = []
        culture = country.culture if country.culture in _ORG_WORDS else "en"
        column = {"es": 0, "pt": 1, "fr": 2}.get(culture)

        def make() -> str:
            item = rng.choice(_ORG_FOCUS)
            focus[:] = [item]
            word = rng.choice(_ORG_WORDS[culture])
            if column is None:
                return f"{word} {item[3]}"
            return f"{rng.choice(_ORG_PREFIXES[culture])} {word} {item[column]}"

        name = self._unique(make)
        return name, focus[0][4]


def _feminine_slavic(surname: str) -> str:
    if surname.endswith(("ov", "ev", "in")):
        return surname + "a"
    if surname.endswith("sky"):
        return surname[:-3] + "skaya"
    return surname


def _person_sectors(rng: random.Random, gender: str) -> list[str]:
    weights = {code: s.weight for code, s in SECTORS.items()}
    if gender in _FEMININE_GENDERS:
        weights["womens_rights"] *= 2.2
        weights["sexual_reproductive_rights"] *= 2.5
        weights["truth_justice"] *= 1.5
    if gender in ("trans_woman", "trans_man", "non_binary", "self_described"):
        weights["lgbtiq_rights"] *= 12
    first = _pick(rng, weights)
    sectors = [first]
    extra = 2 if rng.random() < 0.1 else 1 if rng.random() < 0.45 else 0
    companions = _SECTOR_COMPANIONS.get(first, ())
    for _ in range(extra):
        pool = [c for c in companions if c not in sectors] or [
            c for c in SECTORS if c not in sectors and c != "other"
        ]
        sectors.append(rng.choice(pool))
    return sectors


_GENDER_WEIGHTS = {
    "woman": 50,
    "man": 38,
    "trans_woman": 2.5,
    "trans_man": 1,
    "non_binary": 3,
    "self_described": 0.5,
    "unknown": 2,
    "prefer_not_to_say": 3,
}


def _contacts(rng: random.Random, country: _Country, name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.split(" ")[0].lower())
    slug = "".join(ch for ch in plain if ch.isascii() and ch.isalnum())
    phone = f"+{country.dial} 000 000 {rng.randrange(10000):04d} (DEMO)"
    return f"{phone} · {slug or 'contact'}{rng.randrange(100)}@example.org"


def _consents(rng: random.Random, today: date) -> list[Record]:
    recorded = today - timedelta(days=rng.randrange(30, 2000))
    out: list[Record] = [
        {
            "purpose": "documentation",
            "granted": True,
            "recorded_on": recorded.isoformat(),
            "name_choice": "full_name",
        }
    ]
    for purpose, p, choices in (
        ("sharing_with_partners", 0.6, ("initials", "full_name")),
        ("un_submission", 0.3, ("full_name", "initials")),
        ("publication", 0.15, ("initials", "anonymous")),
    ):
        if _chance(rng, p):
            item: Record = {
                "purpose": purpose,
                "granted": _chance(rng, 0.9),
                "recorded_on": recorded.isoformat(),
                "name_choice": rng.choice(choices),
            }
            if _chance(rng, 0.3):
                item["expires_on"] = (today + timedelta(days=rng.randrange(90, 1100))).isoformat()
            if _chance(rng, 0.2):
                item["note"] = "Consent given orally in the presence of a companion (DEMO)."
            out.append(item)
    return out


def _close_people(
    rng: random.Random, names: _Names, culture: str, last: str, age: int, org: str | None
) -> list[Record]:
    female, male, surnames = _NAMES[culture]
    people: list[Record] = []
    if age > 24:
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            word = rng.choice(("Daughter", "Son"))
            first = rng.choice(female if word == "Daughter" else male)
            child_age = rng.randrange(2, max(3, min(age - 18, 40)))
            people.append(
                {
                    "relation": "child",
                    "name": f"{first} {last}",
                    "notes": f"{word} (aged {child_age})",
                }
            )
    if _chance(rng, 0.5):
        word = rng.choice(("Wife", "Husband", "Husband", "Partner"))
        first = rng.choice(female if word == "Wife" else male)
        people.append(
            {"relation": "partner", "name": f"{first} {rng.choice(surnames)}", "notes": word}
        )
    if _chance(rng, 0.2):
        word = rng.choice(("Mother", "Father"))
        first = rng.choice(female if word == "Mother" else male)
        people.append({"relation": "parent", "name": f"{first} {last}", "notes": word})
    if _chance(rng, 0.15):
        word = rng.choice(("Sister", "Brother"))
        first = rng.choice(female if word == "Sister" else male)
        people.append({"relation": "other_family", "name": f"{first} {last}", "notes": word})
    if _chance(rng, 0.35):
        name = names.person(culture, None)[0]
        people.append(
            {
                "relation": "colleague",
                "name": name,
                "notes": f"Colleague at {org}" if org else "Colleague",
            }
        )
    return people


def demo_defenders(rng: random.Random, size: DemoSize, today: date) -> list[Record]:
    """Inputs for ``DefenderService.add``: people, collectives and organisations."""
    _check_vocabulary()
    names = _Names(rng)
    # Every country gets someone once there are enough people to go round; a small demo
    # keeps to the heavier countries so each has several defenders.
    spread = 1 if size.defenders >= 3 * len(COUNTRIES) else 0
    counts = _allocate(size.defenders, [c.weight for c in COUNTRIES], minimum=spread)
    deck = [c for c, n in zip(COUNTRIES, counts, strict=True) for _ in range(n)]
    rng.shuffle(deck)
    orgs_by_country: dict[str, list[str]] = {}
    out: list[Record] = []
    for country in deck:
        region = rng.choice(country.regions)[0]
        kind = _pick(rng, {"person": 80, "collective": 12, "organisation": 8})
        record: Record = {"kind": kind, "country": country.code, "region": region}
        if kind == "collective":
            name, sectors = names.collective(country, region)
            record.update(display_name=name, sectors=list(sectors), notes=GROUP_NOTE)
            if _chance(rng, 0.5):
                record["contacts"] = _contacts(rng, country, "asamblea")
        elif kind == "organisation":
            name, sector = names.organisation(country)
            orgs_by_country.setdefault(country.code, []).append(name)
            record.update(
                display_name=name,
                legal_name=f"{name} (registered association)",
                sectors=[sector],
                notes=GROUP_NOTE,
                contacts=_contacts(rng, country, "info"),
            )
            if _chance(rng, 0.3):
                record["aliases"] = ["".join(w[0] for w in name.split() if w[0].isupper())]
        else:
            out.append(_person(rng, names, country, region, today, orgs_by_country))
            continue
        if _chance(rng, 0.6):
            record["consents"] = _consents(rng, today)
        record["confidential"] = _chance(rng, 0.03)
        out.append(record)
    return out


def _person(
    rng: random.Random,
    names: _Names,
    country: _Country,
    region: str,
    today: date,
    orgs_by_country: Mapping[str, list[str]],
) -> Record:
    gender = _pick(rng, _GENDER_WEIGHTS)
    sectors = _person_sectors(rng, gender)
    nationality = country.code
    if "migrants_refugees" in sectors and country.code in _MIGRATION and _chance(rng, 0.5):
        nationality = _MIGRATION[country.code]
    culture = _BY_CODE[nationality].culture if nationality in _BY_CODE else country.culture
    feminine = (
        True if gender in _FEMININE_GENDERS else False if gender in ("man", "trans_man") else None
    )
    display, legal, first, last = names.person(culture, feminine)
    age = rng.randrange(22, 74)
    record: Record = {
        "kind": "person",
        "display_name": display,
        "legal_name": legal,
        "gender_identity": gender,
        "nationality": nationality,
        "country": country.code,
        "region": region,
        "sectors": sectors,
        "notes": PERSON_NOTE,
    }
    sex = {"woman": "female", "man": "male"}.get(gender)
    if sex and _chance(rng, 0.75):
        record["sex"] = sex
    elif gender in ("prefer_not_to_say", "non_binary") and _chance(rng, 0.5):
        record["sex"] = "prefer_not_to_say"
    roll = rng.random()
    if roll < 0.55:
        record["birth_year"] = today.year - age
    elif roll < 0.85:
        record["age_band"] = (
            "18_29" if age < 30 else "30_44" if age < 45 else "45_59" if age < 60 else "60_plus"
        )
    if "lgbtiq_rights" in sectors or _chance(rng, 0.2):
        lgbt = "lgbtiq_rights" in sectors
        record["sexual_orientation"] = _pick(
            rng,
            {"lesbian": 3, "gay": 3, "bisexual": 3, "other": 1, "prefer_not_to_say": 2}
            if lgbt
            else {"heterosexual": 12, "bisexual": 1, "prefer_not_to_say": 3},
        )
    orgs: list[str] = []
    if _chance(rng, 0.7):
        local = orgs_by_country.get(country.code)
        if local and _chance(rng, 0.5):
            orgs.append(rng.choice(local))
        else:
            orgs.append(names.organisation(country)[0])
        if _chance(rng, 0.12):
            orgs.append(names.organisation(country)[0])
    if orgs:
        record["organisations"] = orgs
    if _chance(rng, 0.8):
        record["contacts"] = _contacts(rng, country, first)
    if _chance(rng, 0.2):
        alts = [f"{a} {last}" for a in _ALT_SPELLINGS.get(first, ())]
        alts += [f"{first} {a}" for a in _ALT_SPELLINGS.get(last, ())]
        if alts:
            record["aliases"] = [rng.choice(alts)]
        elif culture in _NICKNAMES and feminine is not None:
            pool = _NICKNAMES[culture][0 if feminine else 1]
            record["aliases"] = [rng.choice(pool).format(first=first)]
    if _chance(rng, 0.7):
        people = _close_people(rng, names, culture, last, age, orgs[0] if orgs else None)
        if people:
            record["close_people"] = people
    record["consents"] = _consents(rng, today)
    record["confidential"] = _chance(rng, 0.04)
    return record


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------
@dataclass
class _Victim:
    index: int
    id: str
    kind: str
    name: str
    gender: str | None
    country: _Country
    region: str
    sectors: list[str]
    family: list[tuple[str, str, str | None, str]]  # (relation, name, id, notes word)
    activity: float
    digital: float
    act_types: list[str] = field(default_factory=list)
    act_cum: list[float] = field(default_factory=list)
    alive: bool = True
    last_incident: int | None = None

    @property
    def feminine(self) -> bool:
        return self.gender in _FEMININE_GENDERS

    @property
    def queer(self) -> bool:
        return "lgbtiq_rights" in self.sectors or self.gender in (
            "trans_woman",
            "trans_man",
            "non_binary",
            "self_described",
        )

    @property
    def group_like(self) -> bool:
        return any(s in _GROUP_SECTORS for s in self.sectors)


def _victims(
    rng: random.Random, defender_ids: Sequence[str], defenders: Sequence[Mapping[str, Any]]
) -> list[_Victim]:
    out: list[_Victim] = []
    for i, (did, d) in enumerate(zip(defender_ids, defenders, strict=True)):
        country = _BY_CODE.get(str(d.get("country") or ""))
        if country is None:
            continue
        kind = str(d.get("kind") or "person")
        sectors = list(d.get("sectors") or ["other"])
        family = []
        for cp in d.get("close_people") or []:
            word = str(cp.get("notes") or "").split(" ")[0]
            if word in _RELATION_WORDS and cp.get("relation") in _FAMILY_RELATIONS:
                family.append((str(cp["relation"]), str(cp["name"]), cp.get("id"), word))
        activity = min(rng.paretovariate(1.4), 25.0) * (1.6 if kind == "collective" else 1.0)
        digital = max(
            {
                "journalism_free_expression": 3.0,
                "digital_rights": 3.0,
                "lgbtiq_rights": 2.5,
                "womens_rights": 2.0,
                "sexual_reproductive_rights": 2.0,
                "anti_corruption_democracy": 2.0,
            }.get(s, 1.0)
            for s in sectors
        ) * (0.3 if kind == "collective" else 1.0)
        v = _Victim(
            i,
            did,
            kind,
            str(d.get("display_name") or ""),
            d.get("gender_identity"),
            country,
            str(d.get("region") or country.regions[0][0]),
            sectors,
            family,
            activity,
            digital * activity,
        )
        weights = dict(_BASE_ACTS)
        boosts = [_ACT_BOOST_BY_SECTOR.get(s, {}) for s in sectors]
        boosts.append(_ACT_BOOST_BY_KIND.get(kind, {}))
        if country.restrictive:
            boosts.append(_ACT_BOOST_RESTRICTIVE)
        if v.feminine:
            boosts.append(_ACT_BOOST_FEMININE)
        for boost in boosts:
            for code, factor in boost.items():
                if code in weights:
                    weights[code] *= factor
        total = 0.0
        for code, w in weights.items():
            total += w
            v.act_types.append(code)
            v.act_cum.append(total)
        out.append(v)
    return out


def _incident_dates(rng: random.Random, n: int, today: date) -> list[date]:
    end = today - timedelta(days=1)
    first_year = today.year - YEARS_BACK
    spans: list[tuple[date, int]] = []
    for year in range(first_year, end.year + 1):
        start = date(year, 1, 1)
        days = (min(date(year, 12, 31), end) - start).days + 1
        spans.append((start, max(days, 0)))
    weights = [days * 1.07**k for k, (_start, days) in enumerate(spans)]
    counts = _allocate(n, weights)
    out: list[date] = []
    for (start, days), count in zip(spans, counts, strict=True):
        out.extend(sorted(start + timedelta(days=rng.randrange(days)) for _ in range(count)))
    return out


def _a20_share(year_index: int) -> float:
    return 0.05 + 0.025 * year_index


A01_SHARE = 0.045


# Whom a killing of each mode can hit: a living person, one with family, or a collective.
_KILLING_NEEDS: dict[str, Callable[[_Victim], bool]] = {
    "person": lambda v: v.alive and v.kind == "person",
    "family": lambda v: v.alive and v.kind == "person" and bool(v.family),
    "community": lambda v: v.kind == "collective",
}


class _IncidentMaker:
    def __init__(
        self,
        rng: random.Random,
        victims: list[_Victim],
        today: date,
    ) -> None:
        self.rng = rng
        self.victims = victims
        self.end = today - timedelta(days=1)
        self.by_country: dict[str, list[_Victim]] = {}
        for v in victims:
            self.by_country.setdefault(v.country.code, []).append(v)
        self.alive = {code: len(vs) for code, vs in self.by_country.items()}
        self._perp_cache: dict[tuple[str, str], tuple[list[str], list[float]]] = {}
        # Who can be hit, per country, kept until a victim there dies: rebuilt for every
        # incident, they made a million-incident generation quadratic (20,000 defenders:
        # about 40 minutes). (country, online?) -> the living and their cumulative weights.
        self._alive_pools: dict[tuple[str, bool], tuple[list[_Victim], list[float]]] = {}
        self._pools: dict[tuple[str, str], list[_Victim]] = {}  # (country, killing mode)

    # -- choosing the victim ----------------------------------------------------------
    def _country(self, category: str, mode: str) -> str | None:
        codes, weights = [], []
        for code in self.by_country:
            if self._killing_pool(code, mode):
                c = _BY_CODE[code]
                codes.append(code)
                weights.append(c.weight * (c.lethal if category == "A01" else 1.0))
        if not codes:
            return None
        return self.rng.choices(codes, weights=weights)[0]

    def _killing_pool(self, code: str, mode: str) -> list[_Victim]:
        """Who in ``code`` a killing of ``mode`` can hit, in the defenders' order."""
        key = (code, mode)
        if key not in self._pools:
            need = _KILLING_NEEDS[mode]
            self._pools[key] = [v for v in self.by_country[code] if need(v)]
        return self._pools[key]

    def victim(self, category: str) -> tuple[_Victim, str]:
        """The main victim and the mode (person, family, community) of a killing."""
        rng = self.rng
        if category == "A01":
            mode = _pick(rng, {"person": 55, "family": 20, "community": 25})
            for m in (mode, "person", "community"):
                code = self._country(category, m)
                if code:
                    return rng.choice(self._killing_pool(code, m)), m
        codes = [code for code, n in self.alive.items() if n]
        if not codes:
            raise DemoError("every demo defender was killed: use more defenders")
        code = rng.choices(codes, weights=[_BY_CODE[c].weight for c in codes])[0]
        pool, cum_weights = self._alive_pool(code, online=category == "A20")
        return rng.choices(pool, cum_weights=cum_weights)[0], "person"

    def _alive_pool(self, code: str, *, online: bool) -> tuple[list[_Victim], list[float]]:
        """The same draw as ``choices(pool, weights)``, which accumulates the weights itself."""
        key = (code, online)
        if key not in self._alive_pools:
            pool = [v for v in self.by_country[code] if v.alive]
            weights = [v.digital if online else v.activity for v in pool]
            self._alive_pools[key] = (pool, list(itertools.accumulate(weights)))
        return self._alive_pools[key]

    def _forget_pools(self, code: str) -> None:
        for online in (False, True):
            self._alive_pools.pop((code, online), None)
        for mode in _KILLING_NEEDS:
            self._pools.pop((code, mode), None)

    # -- building blocks --------------------------------------------------------------
    @staticmethod
    def _collective_odds(act_type: str, victim: _Victim) -> float:
        """How likely an attack on a person defender also hit the people around her."""
        if act_type == "A25":
            return 0.9
        if any(s in (IND, AFRO) for s in victim.sectors):
            return 0.5
        return 0.42 if victim.group_like else 0.07

    def perpetrators(self, act_type: str, country: _Country) -> list[str]:
        key = (act_type, country.code)
        if key not in self._perp_cache:
            weights = dict(_PERP_GROUPS[_ACT_PERP_GROUP[act_type]])
            for boost in (
                _PERP_BOOST_BY_ACT.get(act_type, {}),
                _PERP_BOOST_BY_COUNTRY.get(country.code, {}),
                _RESTRICTIVE_PERP_BOOST if country.restrictive else {},
            ):
                for code, factor in boost.items():
                    if code in weights:
                        weights[code] *= factor
            total, cum = 0.0, []
            for w in weights.values():
                total += w
                cum.append(total)
            self._perp_cache[key] = (list(weights), cum)
        types, cum = self._perp_cache[key]
        n = 1 if self.rng.random() < 0.7 else 2 if self.rng.random() < 0.85 else 3
        chosen: list[str] = []
        for _ in range(n * 2):
            t = self.rng.choices(types, cum_weights=cum)[0]
            if t not in chosen:
                chosen.append(t)
            if len(chosen) == n:
                break
        return chosen

    def sources(self, act_type: str, day: date) -> list[Record]:
        rng = self.rng
        weights: dict[str, float] = dict(_BASE_SOURCES)
        for code, factor in _SOURCE_BOOST.get(act_type, {}).items():
            weights[code] *= factor
        n = 1 if rng.random() < 0.5 else 2 if rng.random() < 0.7 else 3
        out: list[Record] = []
        seen: list[str] = []
        for _ in range(n):
            t = _pick(rng, weights)
            if t in seen:
                continue
            seen.append(t)
            src: Record = {
                "source_type": t,
                "reliability": _pick(rng, _RELIABILITY.get(t, _RELIABILITY["default"])),
            }
            if _chance(rng, 0.6):
                src["description"] = rng.choice(_SOURCE_DESCRIPTIONS)
            if t == "court_record":
                src["identity"] = f"Case file {rng.randrange(100, 9999)}-{day.year} (DEMO)"
            elif t == "partner_ngo" and _chance(rng, 0.5):
                src["identity"] = "Partner organisation in the region (DEMO)"
            src["obtained_on"] = min(
                self.end, day + timedelta(days=rng.randrange(0, 30))
            ).isoformat()
            out.append(src)
        return out

    def interventions(self, act_type: str, day: date, country: _Country) -> list[Record]:
        rng = self.rng
        severe = act_type in _SEVERE
        if not _chance(rng, 0.55 if severe else 0.25):
            return []
        out: list[Record] = []
        for _ in range(1 if rng.random() < 0.7 else 2):
            pool = _INTERVENERS + ((_AMERICAS_INTERVENER,) if country.americas else ())
            item: Record = {
                "status": _pick(rng, _STATUS),
                "priority": _pick(
                    rng,
                    {"urgent": 40, "high": 40, "normal": 20}
                    if severe
                    else {"high": 20, "normal": 60, "low": 20},
                ),
                "intervention_date": min(
                    self.end, day + timedelta(days=rng.randrange(1, 60))
                ).isoformat(),
                "intervener": rng.choice(pool),
            }
            if _chance(rng, 0.7):
                item["response"] = rng.choice(_RESPONSES)
            out.append(item)
        return out

    def modality(self, act_type: str) -> str:
        split = _ONLINE.get(act_type)
        if split is None:
            return "in_person"
        return self.rng.choices(_MODALITIES, weights=split)[0]

    def gender_lens(
        self, act: Record, victim: _Victim, perp_types: list[str], *, family: bool = False
    ) -> None:
        rng = self.rng
        act_type = act["act_type"]
        act.pop("gender_specific", None)
        act.pop("gender_features", None)
        features: list[str] = []
        if victim.kind != "person":
            if "womens_rights" in victim.sectors and _chance(rng, 0.25):
                features.append("reputation_morality_honour")
        elif family:
            if victim.feminine and _chance(rng, 0.6):
                features.append("children_or_partner_targeted")
                if _chance(rng, 0.4):
                    features.append("motherhood_family_role")
        elif victim.feminine or act_type in ("A07", "A08"):
            p, pool = _GENDERED.get(act_type, _GENDERED_DEFAULT)
            if _chance(rng, p):
                features.append(rng.choice(pool))
                if _chance(rng, 0.25):
                    extra = rng.choice(pool)
                    if extra not in features:
                        features.append(extra)
            if any(t in _OWN_CIRCLE for t in perp_types) and _chance(rng, 0.7):
                features.append("perpetrator_own_circle")
        if victim.queer and act_type in _OUTING_ACTS and _chance(rng, 0.3):
            features.append("outing")
        if features:
            act["gender_specific"] = "yes"
            act["gender_features"] = features
        elif victim.kind == "person":
            act["gender_specific"] = "no" if rng.random() < 0.7 else "unknown"

    # -- the incident -----------------------------------------------------------------
    def make(self, index: int, day: date, category: str, marked: bool) -> Record:
        rng = self.rng
        victim, mode = self.victim(category)
        country = victim.country
        if category == "other":
            primary = rng.choices(victim.act_types, cum_weights=victim.act_cum)[0]
        else:
            primary = category
        precision = _pick(rng, {"exact": 85, "unknown_day": 9, "estimate": 3, "unknown_month": 3})
        dated = precision in ("exact", "estimate")
        date_end: date | None = None
        if primary in _CAMPAIGN_ACTS and _chance(rng, 0.3):
            date_end = min(self.end, day + timedelta(days=rng.randrange(3, 120)))
        horizon = ((date_end or day + timedelta(days=14)) - day).days
        horizon = max(0, min(horizon, (self.end - day).days))

        if victim.region and _chance(rng, 0.85):
            region = victim.region
        else:
            region = rng.choice(country.regions)[0]
        places = dict(country.regions).get(region, ())
        place = rng.choice(places) if places and _chance(rng, 0.7) else None

        perp_types = self.perpetrators(primary, country)
        company = None
        if any(t.startswith("company_") for t in perp_types) or (
            "private_security" in perp_types and victim.group_like and _chance(rng, 0.5)
        ):
            transnational = "company_transnational" in perp_types
            company = rng.choice([c for c in _COMPANIES if c[2] == transnational] or _COMPANIES)
        perpetrators: list[Record] = []
        for t in perp_types:
            p: Record = {"perpetrator_type": t}
            if t.startswith("company_") and company:
                p["name"] = company[0]
            if _chance(rng, 0.6):
                p["description"] = rng.choice(_PERP_DESCRIPTIONS.get(t, ("Not identified",)))
            perpetrators.append(p)

        def involvements() -> list[Record]:
            out: list[Record] = []
            for k, t in enumerate(perp_types):
                if k == 0:
                    degree = _pick(
                        rng,
                        {
                            "carried_out": 60,
                            "suspected": 25,
                            "unknown": 5,
                            "ordered": 5,
                            "present": 5,
                        },
                    )
                elif t in ("police", "local_officials", "national_officials") and _chance(rng, 0.4):
                    degree = "failed_to_protect"
                else:
                    degree = _pick(
                        rng,
                        {
                            "ordered": 25,
                            "complicit": 20,
                            "present": 20,
                            "planned": 10,
                            "suspected": 15,
                            "unknown": 5,
                        },
                    )
                out.append({"perpetrator": k, "degree": degree})
            return out

        previously = (
            "yes"
            if victim.last_incident is not None and _chance(rng, 0.7)
            else _pick(rng, {"yes": 25, "no": 20, "unknown": 55})
        )

        # Collective character of the attack.
        collective = False
        counting_unit = "individual"
        target = "defender"
        affected = 1
        if victim.kind == "collective":
            collective, counting_unit, target = True, "community", "community"
            affected = int(min(2000, 8 + rng.paretovariate(1.1) * 20))
        elif victim.kind == "organisation":
            collective, counting_unit, target = True, "group", "organisation"
            affected = rng.randrange(3, 45)
        elif primary in _COLLECTIVE_OK and _chance(rng, self._collective_odds(primary, victim)):
            collective = True
            counting_unit = (
                "community" if any(s in (LAND, IND, AFRO, ENV) for s in victim.sectors) else "group"
            )
            affected = rng.randrange(3, 90)
        if category == "A01" and mode == "community":
            affected = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
            if affected == 1:
                collective, counting_unit = False, "individual"

        acts: list[Record] = []

        def act(act_type: str, *, offset: int = 0) -> Record:
            a: Record = {
                "act_type": act_type,
                "victim_defender_id": victim.id,
                "target_relation": target,
                "modality": self.modality(act_type),
                "previously_threatened": previously,
            }
            if dated:
                a["act_date"] = (day + timedelta(days=offset)).isoformat()
            if collective:
                a["collective"] = True
                a["people_affected"] = affected
            if company and act_type in (primary, "A22", "A23", "A15", "A16", "A24"):
                a["business_company"] = company[0]
                a["business_sector"] = company[1]
            a["involvements"] = involvements()
            self.gender_lens(a, victim, perp_types)
            return a

        family_member: tuple[str, str, str | None, str] | None = None
        if category == "A01" and mode == "family":
            family_member = rng.choice(victim.family)
            relation, _name, cp_id, word = family_member
            a = act("A01")
            a["target_relation"] = relation
            if cp_id:
                a["victim_person_id"] = cp_id
            a["victim_description"] = f"{word} of the defender"
            self.gender_lens(a, victim, perp_types, family=True)
            acts.append(a)
        elif category == "A01" and mode == "community":
            a = act("A01")
            a["victim_description"] = (
                f"{affected} member(s) of {victim.name}"
                if affected > 1
                else f"A member of {victim.name}"
            )
            acts.append(a)
        else:
            acts.append(act(primary))
            if category == "A01" and victim.kind == "person":
                victim.alive = False
                self.alive[country.code] -= 1
                self._forget_pools(country.code)
        # Companions: what else happened to the same victim.
        if not (category == "A01" and mode == "person") or _chance(rng, 0.5):
            added = 0
            for companion, prob in _COMPANIONS.get(primary, ()):
                if added < 2 and _chance(rng, prob):
                    acts.append(act(companion, offset=rng.randrange(0, horizon + 1)))
                    added += 1
        # Family members targeted as well.
        extra_family: tuple[str, str, str | None, str] | None = None
        fam_type = "A10"
        if (
            category != "A01"
            and victim.kind == "person"
            and victim.family
            and primary not in ("A20", "A16", "A17", "A21", "A26", "A27")
            and _chance(rng, 0.25)
        ):
            extra_family = rng.choice(victim.family)
            relation, _name, cp_id, word = extra_family
            fam_type = rng.choice(_FAMILY_ACTS)
            fa: Record = {
                "act_type": fam_type,
                "victim_defender_id": victim.id,
                "target_relation": relation,
                "modality": self.modality(fam_type),
                "previously_threatened": previously,
                "victim_description": f"{word} of the defender",
                "involvements": involvements(),
            }
            if cp_id:
                fa["victim_person_id"] = cp_id
            if dated:
                fa["act_date"] = (day + timedelta(days=rng.randrange(0, horizon + 1))).isoformat()
            self.gender_lens(fa, victim, perp_types, family=True)
            acts.append(fa)
            counting_unit = "family" if counting_unit == "individual" else counting_unit
        # A second defender attacked together with the first.
        second = None
        if category == "other" and victim.kind == "person" and _chance(rng, 0.05):
            peers = [
                v
                for v in self.by_country[country.code]
                if v.alive and v is not victim and v.kind == "person"
            ]
            if peers:
                second = rng.choice(peers)
                sa = act(primary)
                sa["victim_defender_id"] = second.id
                self.gender_lens(sa, second, perp_types)
                acts.append(sa)
                if counting_unit == "individual":
                    counting_unit = "group"

        lang = "es" if country.culture == "es" and rng.random() < 0.75 else "en"
        title = self.title(primary, victim, mode, lang, region)
        narrative = self.narrative(
            primary,
            victim,
            mode,
            family_member,
            (extra_family, fam_type),
            acts,
            perp_types,
            lang,
            day,
            precision,
            place or region,
            previously == "yes",
            collective,
            affected,
            marked,
        )
        start = {
            "exact": day.isoformat(),
            "estimate": "~" + day.isoformat(),
            "unknown_day": f"{day.year:04d}-{day.month:02d}",
            "unknown_month": f"{day.year:04d}",
        }[precision]
        srcs = self.sources(primary, day)
        reliable = any(s["reliability"] == "highly_reliable" for s in srcs)
        status = _pick(
            rng,
            {"confirmed": 60, "likely": 30, "possible": 10}
            if reliable
            else {"confirmed": 25, "likely": 40, "possible": 25, "unknown": 8, "unlikely": 2},
        )
        record: Record = {
            "title": title,
            "narrative": narrative,
            "date_start": start,
            "country": country.code,
            "region": region,
            "violation_status": status,
            "counting_unit": counting_unit,
            "acts": acts,
            "perpetrators": perpetrators,
            "sources": srcs,
        }
        if place:
            record["place"] = place
        if date_end and date_end > day:
            record["date_end"] = date_end.isoformat()
        if _chance(rng, 0.03):
            record["confidential"] = True
        if precision != "exact" and _chance(rng, 0.5):
            record["notes"] = {"date_start": "Date reconstructed from the victim's account."}
        interventions = self.interventions(primary, day, country)
        if interventions:
            record["interventions"] = interventions
        victim.last_incident = index
        if second is not None:
            second.last_incident = index
        return record

    # -- text -------------------------------------------------------------------------
    def title(self, act_type: str, victim: _Victim, mode: str, lang: str, region: str) -> str:
        head = _TITLES[act_type][1 if lang == "es" else 0]
        sector = SECTORS.get(victim.sectors[0], SECTORS["other"])
        if victim.kind == "collective":
            who = sector.group_es if lang == "es" else sector.group_en
        elif victim.kind == "organisation":
            who = (
                "organización de derechos humanos" if lang == "es" else "human rights organisation"
            )
        elif lang == "es":
            who = sector.es_f if victim.feminine else sector.es_m
        else:
            who = sector.en
        if mode == "family":
            who = f"familiar de {who}" if lang == "es" else f"relative of {who}"
        elif mode == "community":
            who = f"integrante de {who}" if lang == "es" else f"member of {who}"
        where = "en" if lang == "es" else "in"
        return f"{head} {who} {where} {region} (DEMO)"

    def narrative(
        self,
        act_type: str,
        victim: _Victim,
        mode: str,
        family_member: tuple[str, str, str | None, str] | None,
        extra: tuple[tuple[str, str, str | None, str] | None, str],
        acts: list[Record],
        perp_types: list[str],
        lang: str,
        day: date,
        precision: str,
        place: str,
        previously: bool,
        collective: bool,
        affected: int,
        marked: bool,
    ) -> str:
        rng = self.rng
        es = lang == "es"
        if victim.kind in ("collective", "organisation"):
            if victim.kind == "collective":
                ref = "la comunidad" if es else "the community"
            else:
                ref = "la organización" if es else "the organisation"
            agree = "a" if victim.name.split(" ")[0] in _FEMININE_NOUNS else "o"
        elif es:
            ref, agree = (
                ("la defensora", "a")
                if victim.feminine
                else ("el defensor", "o")
                if victim.gender in ("man", "trans_man")
                else ("la persona defensora", "a")
            )
        else:
            ref, agree = "the defender", ""
        subject = victim.name
        if family_member is not None:
            _rel, cp_name, _id, word = family_member
            _r, rel_en, rel_es, agree = _RELATION_WORDS[word]
            subject = (
                f"{cp_name}, {rel_es} de {victim.name},"
                if es
                else f"{cp_name}, {rel_en} of {victim.name},"
            )
        elif mode == "community":
            subject = f"un integrante de {victim.name}" if es else f"a member of {victim.name}"
            agree = "o"
        perp = _PERP_PHRASES.get(perp_types[0], _PERP_PHRASES["other"])[1 if es else 0]
        template = rng.choice(_EVENTS[act_type][1 if es else 0])
        event = template.format(victim=subject, perp=perp, place=place, o=agree)
        if rng.random() < 0.8:
            sentences = [f"{_date_text(day, precision, lang)}, {event}."]
        else:
            sentences = [f"{_cap(event)}."]
        optional: list[str] = []
        sector = SECTORS.get(rng.choice(victim.sectors), SECTORS["other"])
        if rng.random() < 0.75:
            optional.append((sector.work_es if es else sector.work_en).format(Ref=_cap(ref)))
        extra_family, fam_type = extra
        if extra_family is not None:
            _rel, cp_name, _id, word = extra_family
            _r, rel_en, rel_es, cp_agree = _RELATION_WORDS[word]
            template_en, template_es = _FAMILY_EVENTS.get(fam_type, _FAMILY_EVENTS["A10"])
            optional.append(
                (template_es if es else template_en).format(
                    cp=cp_name, rel_en=rel_en, rel_es=rel_es, ref=ref, o_cp=cp_agree
                )
            )
        dead = act_type in ("A01", "A03") and mode == "person"
        context = [
            s
            for s in _CONTEXT
            if s[2] == "any"
            or (s[2] == "alive" and not dead and victim.kind == "person")
            or (s[2] == "previous" and previously and victim.kind == "person")
            or (s[2] == "online" and any(a["modality"] != "in_person" for a in acts))
            or (
                s[2] == "collective"
                and collective
                and affected > 2
                and victim.kind != "organisation"
            )
        ]
        for item in rng.sample(context, k=min(len(context), rng.choice((0, 1, 1, 2, 2, 3)))):
            optional.append(
                (item[1] if es else item[0]).format(place=place, ref=ref, Ref=_cap(ref), n=affected)
            )
        if rng.random() < 0.45:
            source = rng.choice(list(_SOURCE_PHRASES.values()))
            optional.append(
                f"La información proviene de {source[1]}."
                if es
                else f"The information comes from {source[0]}."
            )
        room = 4 - (1 if marked else 0)
        sentences.extend(optional[:room])
        if len(sentences) < 2:
            sentences.append(
                "No se conocen más detalles." if es else "No further details are known."
            )
        if marked:
            sentences.insert(
                rng.randrange(1, len(sentences) + 1), _MARKER_SENTENCES[1 if es else 0]
            )
        return " ".join(sentences)


def demo_incidents(
    rng: random.Random,
    defender_ids: Sequence[str],
    defenders: Sequence[Mapping[str, Any]],
    size: DemoSize,
    today: date,
) -> Iterator[Record]:
    """Inputs for ``IncidentService.add_many``, in chronological order.

    ``defenders`` are the defender records (as given to ``add`` or as ``Defender.to_dict()``)
    and ``defender_ids`` their stored ids, in the same order; with ``to_dict()`` the close
    people carry ids and family members become ``victim_person_id`` of the acts against them.
    """
    _check_vocabulary()
    if len(defender_ids) != len(defenders):
        raise DemoError("defender_ids and defenders differ in length")
    victims = _victims(rng, defender_ids, defenders)
    if not victims:
        raise DemoError("demo incidents need at least one demo defender")
    n = size.incidents
    marked = set(rng.sample(range(n), min(MARKED_INCIDENTS, n)))
    days = _incident_dates(rng, n, today)
    first_year = today.year - YEARS_BACK
    categories: list[str] = []
    start = 0
    while start < len(days):
        year = days[start].year
        stop = start
        while stop < len(days) and days[stop].year == year:
            stop += 1
        count = stop - start
        n20 = round(_a20_share(year - first_year) * count)
        n01 = min(count - n20, round(A01_SHARE * count))
        deck = ["A20"] * n20 + ["A01"] * n01 + ["other"] * (count - n20 - n01)
        rng.shuffle(deck)
        categories.extend(deck)
        start = stop
    maker = _IncidentMaker(rng, victims, today)
    for index, (day, category) in enumerate(zip(days, categories, strict=True)):
        yield maker.make(index, day, category, index in marked)


# --------------------------------------------------------------------------------------
# Chains of events and populating a registry
# --------------------------------------------------------------------------------------
_THREATS = frozenset(("A09", "A10", "A11", "A12", "A13", "A19", "A20"))
_ESCALATIONS = frozenset(("A01", "A02", "A03", "A04", "A14", "A15", "A22"))
_CAMPAIGN = frozenset(("A08", "A10", "A11", "A12", "A19", "A20"))


def _start(record: Mapping[str, Any]) -> date:
    text = str(record["date_start"]).lstrip("~")
    year, month, dd = [*text.split("-"), "01", "01"][:3]
    return date(int(year), int(month), int(dd))


def demo_links(
    rng: random.Random, records: Sequence[Mapping[str, Any]], limit: int | None = None
) -> list[tuple[int, int, str]]:
    """A few chains of events: (later record, earlier record, relation), by position.

    Only incidents against the same first victim are chained: an escalation after threats
    ``follows`` them; repeated harassment within four months is ``part_of`` one campaign.
    """
    previous: dict[str, int] = {}
    candidates: list[tuple[int, int, str]] = []
    for i, record in enumerate(records):
        first = record["acts"][0]
        victim = first.get("victim_defender_id")
        if not victim:
            continue
        j = previous.get(victim)
        if j is not None:
            gap = (_start(record) - _start(records[j])).days
            earlier = records[j]["acts"][0]["act_type"]
            if first["act_type"] in _ESCALATIONS and earlier in _THREATS and gap <= 365:
                candidates.append((i, j, "follows"))
            elif first["act_type"] in _CAMPAIGN and earlier in _CAMPAIGN and gap <= 120:
                candidates.append((i, j, "part_of"))
        previous[victim] = i
    wanted = limit if limit is not None else max(3, len(records) // 80)
    chosen = rng.sample(candidates, k=min(wanted, len(candidates)))
    return sorted(chosen)


def populate(
    registry: Registry,
    *,
    seed: int = DEMO_SEED,
    size: DemoSize = DemoSize(),  # frozen, so a shared default is safe
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """Fill ``registry`` with the demo data set and mark it as a demo vault.

    Raises ``DemoError`` if the registry refuses any generated record.
    """
    rng = random.Random(seed)
    today = registry.clock.today()
    registry.set_meta("demo", "true")
    inputs = demo_defenders(rng, size, today)
    ids: list[str] = []
    stored: list[Record] = []
    step = max(1, len(inputs) // 50)
    for n, data in enumerate(inputs, start=1):
        try:
            defender = registry.defenders.add(data)
        except AmparoError as exc:
            raise DemoError(f"demo defender {n} was refused: {exc}") from exc
        assert defender.id
        ids.append(defender.id)
        stored.append(defender.to_dict())
        if progress and (n % step == 0 or n == len(inputs)):
            progress("defenders", n, len(inputs))
    records = list(demo_incidents(rng, ids, stored, size, today))

    def incident_progress(done: int, total: int) -> None:
        if progress:
            progress("incidents", done, total)

    report = registry.incidents.add_many(records, progress=incident_progress, total=len(records))
    if report.errors:
        shown = "; ".join(f"record {row}: {err}" for row, err in report.errors[:5])
        raise DemoError(f"{len(report.errors)} demo incident(s) were refused: {shown}")
    links = demo_links(rng, records)
    for k, (later, earlier, relation) in enumerate(links, start=1):
        registry.incidents.amend(
            report.added[later],
            {"links": [{"related_id": report.added[earlier], "relation": relation}]},
        )
        if progress:
            progress("links", k, len(links))
    return {
        "defenders": len(ids),
        "close_people": sum(len(d.get("close_people") or []) for d in stored),
        "incidents": len(report.added),
        "acts": sum(len(r["acts"]) for r in records),
        "perpetrators": sum(len(r["perpetrators"]) for r in records),
        "sources": sum(len(r["sources"]) for r in records),
        "interventions": sum(len(r.get("interventions") or []) for r in records),
        "links": len(links),
    }
