# صفحات sijil بالعربية. One message per id; the same ids in fr.ftl and en.ftl.
# Plurals follow CLDR: Arabic has six forms, zero (0), one (1), two (2), few (3–10, 103–110…),
# many (11–99…) and other (100–102…). Select on PLURAL($n), never on $n: the server's PLURAL
# (ICU4X) applies CLDR's n % 100, which Fluent's own Arabic rule misses (103 would be "other").
# Numbers are formatted by the server with Western
# digits, as written in Morocco (CLDR ar-MA), thousands grouped with a dot; dates are ISO 8601.

## The frame of every page

skip-to-content = الانتقال إلى المحتوى
nav-label = القائمة الرئيسية
nav-languages = اللغة
nav-cases = القضايا
nav-controllers = المسؤولون عن المعالجة
nav-stats = الإحصائيات
nav-verify = كيف تتحقق
footer-checkpoint = تعرض هذه الصفحة السجل عند نقطة التحقق الموقّعة { PLURAL($n) ->
    [zero] التي لا تضم أي قيد
    [one] التي تضم قيدًا واحدًا
    [two] التي تضم قيدين
    [few] التي تضم { $n } قيود
    [many] التي تضم { $n } قيدًا
   *[other] التي تضم { $n } قيد
}
footer-root = الجذر
footer-checkpoint-link = نقطة التحقق

## Counts

count-cases = { PLURAL($n) ->
    [zero] لا قضية
    [one] قضية واحدة
    [two] قضيتان
    [few] { $n } قضايا
    [many] { $n } قضية
   *[other] { $n } قضية
}
count-entries = { PLURAL($n) ->
    [zero] لا قيد
    [one] قيد واحد
    [two] قيدان
    [few] { $n } قيود
    [many] { $n } قيدًا
   *[other] { $n } قيد
}
count-overdue = { PLURAL($n) ->
    [zero] لا قضية متأخرة عن أجلها
    [one] قضية واحدة متأخرة عن أجلها
    [two] قضيتان متأخرتان عن أجلهما
    [few] { $n } قضايا متأخرة عن أجلها
    [many] { $n } قضية متأخرة عن أجلها
   *[other] { $n } قضية متأخرة عن أجلها
}
index-covers = { PLURAL($n) ->
    [zero] لا قيد
    [one] القيد الأول من السجل
    [two] أول قيدين من السجل
    [few] أول { $n } قيود من السجل
    [many] أول { $n } قيدًا من السجل
   *[other] أول { $n } قيد من السجل
}

## Home

home-title = الرئيسية
home-intro-1 = يوثّق هذا السجل العمومي الشكايات وعمليات المراقبة المتعلقة بحماية المعطيات ذات الطابع الشخصي، وما ترتّب عليها: جلسات الاستماع، وآجال المطابقة، والعقوبات. ولا يتضمن أي معطيات ذات طابع شخصي تخص المشتكين.
home-intro-2 = يوقّع كلَّ حدث الموظفُ الذي يقيّده، ثم يضاف إلى دفتر عمومي لا يقبل إلا الإضافة: لا يمكن تغيير ما نُشر فيه أو سحبه دون أن يلاحظ ذلك الجميع. يمكنك التحقق من ذلك بنفسك، في متصفحك أو بأدواتك الخاصة.
home-stats-label = أرقام أساسية
stat-cases = { PLURAL($n) ->
    [zero] قضايا
    [one] قضية
    [two] قضيتان
    [few] قضايا
    [many] قضية
   *[other] قضية
}
stat-open = { PLURAL($n) ->
    [zero] جارية
    [one] جارية
    [two] جاريتان
    [few] جارية
    [many] جارية
   *[other] جارية
}
stat-overdue = متأخرة عن أجلها
stat-sanctions = { PLURAL($n) ->
    [zero] عقوبات مبلّغة
    [one] عقوبة مبلّغة
    [two] عقوبتان مبلّغتان
    [few] عقوبات مبلّغة
    [many] عقوبة مبلّغة
   *[other] عقوبة مبلّغة
}
stat-fines = درهم من الغرامات
overdue-judged-on = يُحتسب التأخر بتاريخ { $date }، وهو تاريخ إنشاء هذه الصفحة.
home-latest = آخر القيود في السجل
home-latest-note = مرتبة حسب تاريخ قيدها؛ والتاريخ المعروض هو تاريخ الحدث نفسه.
recorded-on = قُيّد في { $date }
due-on = أجله { $date }
home-all-cases = جميع القضايا
home-all-stats = جميع الإحصائيات
home-verify-title = التحقق
home-verify-text = في صفحة كل قضية زر «تحقّق» يفحص في متصفحك توقيع السجل، وإدراج كل حدث في الدفتر، وتوقيع الموظف.
home-verify-how = كيف تتحقق من هذا السجل

## Statistics and charts

stats-title = الإحصائيات
chart-by-category = القضايا حسب الصنف (تُحسب القضية ذات الأصناف المتعددة مرة في كل صنف)
chart-by-status = القضايا حسب الوضعية
chart-by-year = القضايا حسب سنة الفتح
chart-deadlines = آجال المطابقة: هل احتُرمت؟
chart-by-sanction = العقوبات المبلّغة حسب النوع
chart-summary = { $name }: المجموع { $n }.
chart-show-figures = عرض الأرقام
chart-count = العدد
deadline-kept = محترمة
deadline-missed = غير محترمة
deadline-pending = لم يحلّ أجلها بعد

## Case list

cases-title = القضايا
cases-matching = { PLURAL($n) ->
    [zero] لا توجد قضية مطابقة
    [one] قضية واحدة مطابقة
    [two] قضيتان مطابقتان
    [few] { $n } قضايا مطابقة
    [many] { $n } قضية مطابقة
   *[other] { $n } قضية مطابقة
}
filter-any = الكل
filter-controller = المسؤول عن المعالجة (المعرّف)
filter-controller-hint = مثلًا cafe-atlas
filter-opened-from = فُتحت من
filter-opened-to = إلى
filter-submit = تصفية
pager-label = الصفحات
pager-first = → البداية
pager-next = التالية ←
pager-previous = → السابقة
col-case = القضية
col-controller = المسؤول
col-category = الأصناف
col-opened = تاريخ الفتح
col-status = الوضعية
col-deadline = الأجل
col-name = الاسم
col-id = المعرّف
col-open = جارية
badge-overdue = متأخرة
badge-not-yet-due = لم يحلّ بعد
badge-missed = لم يُحترم
open-data-label = بيانات مفتوحة:
open-data-cases = القضايا
open-data-events = الأحداث
open-data-feed = موجز Atom

## A case

case-title = القضية { $id }
opened-by-complaint = بناءً على شكاية
opened-by-inspection = بناءً على مراقبة تلقائية
fact-controller = المسؤول عن المعالجة
fact-latest-hearing = آخر جلسة استماع
fact-deadline = أجل المطابقة
fact-sanction = العقوبة
fact-sanction-value = { $sanction } — { $date } ({ $basis })
fact-complied-on = تاريخ إثبات المطابقة
fact-closed-on = تاريخ الإغلاق
fact-decision = القرار
fact-appeal = الطعن
appeal-pending = قيد النظر
case-feed-label = تتبّع هذه القضية:
verify-title = تحقّق من هذه القضية
verify-text = يتحقق متصفحك بنفسه، دون أن يثق بهذا الخادم: من توقيع السجل على نقطة التحقق، ومن أن السجل لم تُعَد كتابته منذ زيارتك الأخيرة، ومن اكتمال القضية (الفهرس الذي يوقّعه السجل)، ومن إدراج كل حدث وتوقيعه، ومن اعتماد كل موظف، ومن النصوص. ثم لا يعرض إلا ما تحقق منه.
verify-button = تحقّق
verify-noscript = جافاسكريبت معطّل: لا يستطيع هذا المتصفح التحقق من هذه الصفحة. يمكنك التحقق منها دون متصفح، بأداة سطر الأوامر sijil (URL: عنوان هذا الموقع):
verify-key-label = المفتاح العمومي للسجل المستعمل
verify-key-text = قارنه بالمفتاح الذي تنشره الهيئة، ثم ثبّته: سيحتفظ به هذا المتصفح ويرفض أي موقع يقدم مفتاحًا آخر. يمكنك لصق مفتاح آخر.
verify-pin = تثبيت هذا المفتاح
verify-unpin = نسيان المفتاح المثبّت
verify-witnesses = الشهود
verify-witnesses-text = مفاتيح الشهود (c2sp.org/tlog-cosignature) الذين تثق بهم، مفتاح في كل سطر: سيُتحقق من توقيعاتهم المشتركة على نقطة التحقق وتُعدّ. النصاب: عدد الشهود الذين يلزم توقيعهم (كلهم إن تُرك الحقل فارغًا).
verify-quorum = النصاب
verify-save = حفظ
timeline = التسلسل الزمني
entry-number = رقم { $seq }
recorded-by = قُيّد في { $date } من طرف { $name }
note-corrected-by = صُحّح بالقيد
note-erased = مُحي النص في { $date } ({ $reason })
note-amended = صُوّب ({ $field }): { $old } ← { $new }، بالقيد
link-proof = الإثبات (.tlog-proof)
link-bytes = بايتات القيد
link-leaf-hash = البصمة
text-erased = نص ممحو
text-absent = النص غير متوفر على هذا الخادم
text-invalid = نص غير صالح: لا يطابق البصمة الموقّعة

## An event's facts

row-origin = المصدر
row-title = العنوان
row-authority = الهيئة
row-officers = الموظفون
row-officer = الموظف
row-key = المفتاح
row-reason = السبب
row-controller = المسؤول عن المعالجة
row-category = الأصناف
row-received-on = تاريخ التلقي
row-summary = الملخص
row-opened-on = تاريخ الفتح
row-scope = الموضوع
row-date = التاريخ
row-place = المكان
row-due-on = الأجل
row-obligations = الالتزامات
row-new-due-on = الأجل الجديد
row-confirmed-on = تاريخ الإثبات
row-note = ملاحظة
row-notified-on = تاريخ التبليغ
row-sanction = العقوبة
row-legal-basis = السند القانوني
row-reasons = الأسباب
row-on = بتاريخ
row-authorities = السلطات
row-closed-on = تاريخ الإغلاق
row-outcome = المآل
row-corrects = يصحّح القيد
row-erratum = التصحيح
row-erases = يمحو نص القيد
row-indexed = القيود المفهرسة
row-keys = المفاتيح
row-index-root = جذر الفهرس
row-new-log-key = المفتاح الجديد للسجل
row-decided-on = تاريخ القرار
row-forwarded-on = تاريخ الإحالة
row-forwarded-to = الجهة المحال إليها
row-suspended-on = تاريخ الإيقاف
row-resumed-on = تاريخ استئناف المسطرة
row-published-on = تاريخ النشر
row-decision-number = رقم القرار
row-lodged-on = تاريخ الطعن
row-court = المحكمة
row-appellant = الطاعن
row-ruled-on = تاريخ الحكم
row-ruling = منطوق الحكم
row-reopened-on = تاريخ إعادة الفتح
row-amends = يصوّب القيد
row-amended-field = الحقل
row-new-value = القيمة الجديدة

## Controllers

controllers-title = المسؤولون عن المعالجة
controllers-count = { PLURAL($n) ->
    [zero] لا مسؤول عن المعالجة
    [one] مسؤول واحد عن المعالجة
    [two] مسؤولان عن المعالجة
    [few] { $n } مسؤولين عن المعالجة
    [many] { $n } مسؤولًا عن المعالجة
   *[other] { $n } مسؤول عن المعالجة
}
controller-id = المعرّف:
controller-former-names = الأسماء السابقة:
controller-feed-label = تتبّع هذا المسؤول:

## Errors

error-not-found = غير موجود
error-bad-request = طلب غير صحيح
error-bad-request-text = يتضمن العنوان المطلوب معاملًا لا تفهمه هذه الصفحة.
error-parameter = المعامل:
error-detail-english = تفصيل تقني (بالإنجليزية):
error-server = خطأ في الخادم
error-server-text = تعذّر على الخادم الإجابة. أعد المحاولة لاحقًا.
error-back-home = العودة إلى الصفحة الرئيسية
error-no-case = لا توجد قضية بالرقم { $id }.
error-no-controller = لا يوجد مسؤول عن المعالجة بالمعرّف { $id }.
error-no-page = لا توجد صفحة بهذا العنوان.

## The register's words

status-open = مفتوحة
status-under-investigation = قيد التحقيق
status-awaiting-compliance = في انتظار المطابقة
status-complied = ثبتت المطابقة
status-sanctioned = صدرت عقوبة
status-closed = مغلقة
status-suspended = المسطرة موقوفة
status-under-appeal = قيد الطعن
status-reopened = أعيد فتحها
status-inadmissible = غير مقبولة
status-forwarded = أحيلت إلى سلطة أخرى
category-privacy = الحياة الخاصة
category-image = الحق في الصورة
category-identity-theft = انتحال الهوية
category-right-to-erasure = الحق في المحو
category-geolocation = تحديد الموقع الجغرافي
category-profiling = التنميط
category-video-surveillance = المراقبة بالفيديو
category-cross-border-transfer = نقل المعطيات إلى الخارج
category-unsolicited-marketing = الاستقراء المباشر غير المرغوب فيه
category-other = أخرى
sanction-warning = إنذار
sanction-formal-notice = إعذار
sanction-fine = غرامة
sanction-suspension = توقيف المعالجة
sanction-referral-to-prosecutor = الإحالة على النيابة العامة
sanction-other = عقوبة
sanction-fine-amount = غرامة ({ $n } درهم)
outcome-complied = المطابقة
outcome-sanctioned = صدور عقوبة
outcome-dismissed = الحفظ
outcome-withdrawn = سحب الشكاية
outcome-referred = الإحالة
ruling-upheld = تأييد القرار
ruling-annulled = إلغاء القرار
ruling-partially-annulled = إلغاء القرار جزئيا
ruling-appeal-dismissed = رفض الطعن
appellant-controller = المسؤول عن المعالجة
appellant-complainant = المشتكي
appellant-other = طرف آخر
amended-date = التاريخ
amended-due-on = تاريخ الأجل
amended-controller = المسؤول عن المعالجة
amended-categories = الأصناف
event-RegisterOpened = فتح السجل
event-OfficerAuthorized = اعتماد موظف
event-OfficerRevoked = سحب الاعتماد
event-ComplaintReceived = تلقي شكاية
event-InspectionOpened = فتح مراقبة
event-HearingHeld = جلسة استماع
event-ComplianceDeadlineSet = تحديد أجل المطابقة
event-DeadlineExtended = تمديد الأجل
event-ComplianceConfirmed = إثبات المطابقة
event-SanctionNotified = تبليغ عقوبة
event-AuthoritiesNotified = إخبار السلطات
event-CaseClosed = إغلاق القضية
event-Correction = تصحيح
event-Erasure = محو
event-IndexCommitted = التزام السجل بالفهرس
event-LogKeyRotated = تجديد مفتاح السجل
event-ComplaintInadmissible = شكاية غير مقبولة
event-ComplaintForwarded = إحالة الشكاية
event-ProceedingsSuspended = إيقاف المسطرة
event-ProceedingsResumed = استئناف المسطرة
event-DecisionPublished = نشر القرار
event-AppealLodged = تقديم طعن
event-CourtRuling = حكم المحكمة
event-CaseReopened = إعادة فتح القضية
event-Amendment = تصويب
event-other = حدث

## How to check this register

how-title = كيف تتحقق من هذا السجل
how-plain-1 = قد يكذب هذا الموقع: فيغيّر قضية، أو يخفي أخرى، أو يعرض على كل زائر نسخة مختلفة. صُمّم هذا السجل بحيث يظهر ذلك.
how-plain-2 = كل قيد يوقّعه الموظف الذي أنجزه، ثم يُختم في دفتر لا يقبل إلا الإضافة. وتوقّع الهيئة بانتظام ملخصًا للدفتر كله. بهذا الملخص وببعض الحسابات، يستطيع أي شخص أن يتأكد من أن القضية هي التي نشرتها الهيئة، كاملة، وأنه لم يُغيَّر فيها شيء منذ ذلك الحين.
how-step-1 = تحقق مرة واحدة من مفتاح السجل (أدناه): يجب أن يكون هو الذي تنشره الهيئة في مكان آخر.
how-step-2 = في صفحة قضية، اضغط «تحقّق»: يعيد متصفحك الحسابات ويخبرك بما تحقق منه.
how-step-3 = للاحتفاظ بإثبات، نزّل ملف إثبات حدث: يمكن التحقق منه لاحقًا، دون هذا الموقع.
how-words-title = المصطلحات المستعملة
how-term-log = الدفتر
how-term-log-text = قائمة جميع القيود بترتيبها. يمكن الإضافة إليها، ولا يمكن أبدًا تغيير شيء فيها أو سحبه: فذلك سيظهر.
how-term-checkpoint = نقطة التحقق
how-term-checkpoint-text = ملخص الدفتر الذي توقّعه الهيئة: عدد القيود التي يضمها، وجذره.
how-term-root = الجذر
how-term-root-text = رقم يُحسب انطلاقًا من جميع القيود (شجرة ميركل): تغيير قيد واحد يغيّر الجذر.
how-term-digest = البصمة
how-term-digest-text = رقم قصير (SHA-256) يُحسب انطلاقًا من نص أو قيد: لا يكون لمحتويين مختلفين البصمة نفسها أبدًا.
how-term-proof = الإثبات (ملف .tlog-proof)
how-term-proof-text = البصمات القليلة التي تربط قيدًا بالجذر الموقّع: بها يُتحقق من أنه جزء من الدفتر دون تنزيل الدفتر كله.
how-term-key = المفتاح العمومي
how-term-key-text = ما يسمح بالتحقق من توقيع. مفتاح السجل يتحقق من نقاط التحقق، ولكل موظف مفتاحه.
how-term-witness = الشاهد
how-term-witness-text = طرف ثالث مستقل يوقّع نقاط التحقق توقيعًا مشتركًا: فلا يستطيع السجل حينها أن يعرض على كل زائر نسخة مختلفة دون أن يُكشف.
how-key-title = مفتاح السجل
how-key-text = كل شيء يقوم على هذا المفتاح العمومي. قارنه بالمفتاح الذي تنشره الهيئة في مكان آخر (الجريدة الرسمية، موقع آخر): إن اختلفا، فلا تثق بهذا الموقع.
how-browser-title = في متصفحك
how-browser-text = في صفحة كل قضية، يُجري زر «تحقّق» الفحوص التالية في متصفحك، باستعمال WebCrypto (Ed25519، SHA-256)، دون مكتبات برمجية خارجية ودون الثقة بالخادم:
how-b1 = نقطة التحقق (حجم شجرة ميركل وجذرها) موقّعة بالمفتاح أعلاه؛
how-b2 = لم تُعَد كتابة السجل منذ زيارتك الأخيرة: إثبات اتساق انطلاقًا من آخر نقطة تحقق رآها هذا المتصفح، وإن ثبّتَّ شهودًا، توقيعاتهم المشتركة؛
how-b3 = كل حدث من أحداث القضية مدرج في هذه الشجرة (إثبات إدراج RFC 9162)، وتُفكّ بايتاته في متصفحك؛
how-b4 = القضية كاملة: الفهرس الذي يوقّعه السجل في آخر قيد من كل نقطة تحقق يثبت أنها تضم هذه الأحداث بالضبط، لا أكثر ولا أقل؛
how-b5 = كل حدث موقّع من طرف الموظف الذي قيّده (Ed25519)؛
how-b6 = كل نص معروض يطابق البصمة المقيّدة في الحدث الموقّع؛
how-b7 = كل موظف موقّع كان معتمدًا، وغير مسحوب الاعتماد، في تاريخ الحدث (يثبت ذلك فهرس مفتاحه).
how-b8 = ثم يُعاد رسم الصفحة انطلاقًا من الأحداث التي تم التحقق منها وحدها؛ ويُشار إلى كل ما عرضه الخادم غير ذلك. دون متصفح، بسطر الأوامر:
how-offline-title = دون اتصال، لحدث واحد
how-offline-text = يمكن تنزيل كل حدث مع إثباته بصيغة C2SP tlog-proof (ملف .tlog-proof) وبايتاته الدقيقة. بالمفتاح، يستطيع أي شخص التحقق لاحقًا، دون هذا الموقع، من:
how-o1 = توقيع نقطة التحقق الموجودة في الإثبات؛
how-o2 = إدراج بصمة الحدث في الموضع المذكور؛
how-o3 = توقيع الموظف على الحدث:
how-log-title = الدفتر كله
how-log-text = يُنشر الدفتر بالصيغة المفتوحة C2SP tlog-tiles: يمكن لأي أداة متوافقة نسخه، وإعادة حساب الشجرة، والتحقق من أن أي نقطة تحقق لا تناقض سابقتها.
how-checkpoint-text = نقطة التحقق الموقّعة ({ PLURAL($n) ->
    [zero] لا قيد
    [one] قيد واحد
    [two] قيدان
    [few] { $n } قيود
    [many] { $n } قيدًا
   *[other] { $n } قيد
})
how-tiles-text = مربعات البصمات وحزم القيود ثابتة لا تتغير؛ والنصوص القابلة للمحو (ملح من 32 بايت ثم النص) اسمها بصمتها SHA-256؛ وتقدّم الواجهة البرمجية الإثباتات عند الطلب.

## Feeds

feed-events-title = الأحداث الجديدة في السجل
feed-case-title = القضية { $id }: أحداثها
feed-controller-title = { $name }: أحداث قضاياه
feed-item-title = { $name } — القضية { $id }
feed-item-summary = { $name }، القضية { $id }، بتاريخ { $date } (القيد رقم { $seq }). يمكن التحقق منه في صفحة القضية.
