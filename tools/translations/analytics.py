# ruff: noqa: E501
"""Translations of the analytics page (charts, cross-tab, trend, escalation patterns).

``T = {msgid: (es, fr, pt, ar)}`` for tools/fill_catalogs.py.
"""

T = {
    "Act type categories": (
        "Categorías de tipo de acto",
        "Catégories de types d'acte",
        "Categorias de tipo de ato",
        "فئات أنواع الأفعال",
    ),
    "Acts by %(dimensions)s": (
        "Actos por %(dimensions)s",
        "Actes par %(dimensions)s",
        "Atos por %(dimensions)s",
        "الأفعال حسب %(dimensions)s",
    ),
    "Acts counted": ("Actos contados", "Actes comptés", "Atos contados", "الأفعال المحسوبة"),
    "Acts per %(period)s": (
        "Actos por %(period)s",
        "Actes par %(period)s",
        "Atos por %(period)s",
        "الأفعال لكل %(period)s",
    ),
    "Analytics": ("Análisis", "Analyses", "Análises", "التحليلات"),
    "Choose what to count": (
        "Elija qué contar",
        "Choisir ce qu'il faut compter",
        "Escolha o que contar",
        "اختر ما تريد عدّه",
    ),
    "Count by": ("Contar por", "Compter par", "Contar por", "العدّ حسب"),
    "Counts of acts (one victim × one act type) by the dimensions you choose. Small counts are suppressed where the whole registry is counted.": (
        "Conteos de actos (una víctima × un tipo de acto) según las dimensiones que elija. Los conteos pequeños se suprimen cuando se cuenta todo el registro.",
        "Décomptes d'actes (une victime × un type d'acte) selon les dimensions choisies. Les petits nombres sont masqués quand tout le registre est compté.",
        "Contagens de atos (uma vítima × um tipo de ato) pelas dimensões que você escolher. Contagens pequenas são suprimidas quando todo o registro é contado.",
        "أعداد الأفعال (ضحية واحدة × نوع فعل واحد) حسب الأبعاد التي تختارها. تُحجب الأعداد الصغيرة عند عدّ السجل كله.",
    ),
    "Cross with": ("Cruzar con", "Croiser avec", "Cruzar com", "مقاطعة مع"),
    "Data of the chart": (
        "Datos del gráfico",
        "Données du graphique",
        "Dados do gráfico",
        "بيانات المخطط",
    ),
    "Defenders with the first kind": (
        "Personas defensoras con el primer tipo",
        "Défenseur·es ayant subi le premier type",
        "Defensoras com o primeiro tipo",
        "المدافعات اللواتي تعرّضن للنوع الأول",
    ),
    "Download": ("Descargar", "Télécharger", "Baixar", "تنزيل"),
    "Escalation patterns": (
        "Patrones de escalada",
        "Schémas d'escalade",
        "Padrões de escalada",
        "أنماط التصعيد",
    ),
    "Filters": ("Filtros", "Filtres", "Filtros", "عوامل التصفية"),
    "For each defender, from her first act of the first kind to her first act of the second kind after it.": (
        "Para cada persona defensora, desde su primer acto del primer tipo hasta su primer acto del segundo tipo posterior.",
        "Pour chaque défenseur·e, de son premier acte du premier type à son premier acte du second type qui suit.",
        "Para cada defensora, do seu primeiro ato do primeiro tipo até o primeiro ato do segundo tipo depois dele.",
        "لكل مدافعة، من أول فعل من النوع الأول إلى أول فعل من النوع الثاني بعده.",
    ),
    "From": ("Desde", "Du", "De", "من"),
    "Later attacked with the second kind": (
        "Atacadas después con el segundo tipo",
        "Attaqué·es ensuite par le second type",
        "Atacadas depois com o segundo tipo",
        "تعرّضن لاحقًا للنوع الثاني",
    ),
    "Median days between": (
        "Mediana de días entre ambos",
        "Médiane des jours entre les deux",
        "Mediana de dias entre ambos",
        "وسيط الأيام بينهما",
    ),
    "Nothing": ("Nada", "Rien", "Nada", "لا شيء"),
    "Online attacks before in-person attacks": (
        "Ataques en línea antes de ataques en persona",
        "Attaques en ligne avant des attaques en personne",
        "Ataques online antes de ataques presenciais",
        "هجمات عبر الإنترنت قبل هجمات مباشرة",
    ),
    "Pattern": ("Patrón", "Schéma", "Padrão", "النمط"),
    "Quarter": ("Trimestre", "Trimestre", "Trimestre", "ربع السنة"),
    "Threats before physical attacks": (
        "Amenazas antes de ataques físicos",
        "Menaces avant des attaques physiques",
        "Ameaças antes de ataques físicos",
        "تهديدات قبل اعتداءات جسدية",
    ),
    "Trend per": ("Tendencia por", "Tendance par", "Tendência por", "الاتجاه حسب"),
    "counts below %(k)s suppressed": (
        "conteos por debajo de %(k)s suprimidos",
        "nombres inférieurs à %(k)s masqués",
        "contagens abaixo de %(k)s suprimidas",
        "حُجبت الأعداد الأقل من %(k)s",
    ),
    "Case dossier": ("Expediente del caso", "Dossier du cas", "Dossiê do caso", "ملف القضية"),
    "Download the PDF report": (
        "Descargar el informe en PDF",
        "Télécharger le rapport PDF",
        "Baixar o relatório em PDF",
        "تنزيل التقرير بصيغة PDF",
    ),
    "For publication (small counts suppressed)": (
        "Para publicar (conteos pequeños suprimidos)",
        "Pour publication (petits nombres masqués)",
        "Para publicação (contagens pequenas suprimidas)",
        "للنشر (مع حجب الأعداد الصغيرة)",
    ),
    "PDF with contact details (asks for your password again)": (
        "PDF con datos de contacto (vuelve a pedir su contraseña)",
        "PDF avec les coordonnées (redemande votre mot de passe)",
        "PDF com dados de contato (pede sua senha novamente)",
        "ملف PDF مع بيانات الاتصال (يطلب كلمة المرور مجددًا)",
    ),
    "Period report": (
        "Informe del periodo",
        "Rapport de période",
        "Relatório do período",
        "تقرير الفترة",
    ),
}
