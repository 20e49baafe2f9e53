--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Data for Name: accounts; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.accounts VALUES ('0a000000-0000-4000-8000-000000000001', 'Migration account', '2026-12-03 08:21:15.34048+00');


--
-- Data for Name: attachments; Type: TABLE DATA; Schema: public; Owner: postgres
--



--
-- Data for Name: attachment_chunks; Type: TABLE DATA; Schema: public; Owner: postgres
--



--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.users VALUES ('c9679039-b97c-4936-bccb-1410a3b2abca', NULL, 'root', '$2b$10$bzugYaqP8ry9/U5eiZbkdukPIQN3P4HS6/Ekcot0Wi5nEtVxTptEm', 'superuser', '{}', '{}', '2026-12-03 08:21:12.056323+00');
INSERT INTO public.users VALUES ('32e6879d-2009-404f-b2fa-3861b075315f', '0a000000-0000-4000-8000-000000000001', 'mig-admin', '$2b$10$vw8feMLeAXErMsr.iBfkGev6XBg0yH15omcuH05UakJN6VXAU009e', 'admin', '{0b000000-0000-4000-8000-000000000001}', '{}', '2026-12-03 08:21:15.846005+00');


--
-- Data for Name: auth_tokens; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.auth_tokens VALUES ('\xb0a976cbd3a5cfafc2185fccd138d17df74c60d15c6bd8b3d91f0e08efd04622', 'c9679039-b97c-4936-bccb-1410a3b2abca', NULL, '2026-12-03 08:21:15.307024+00', '2027-01-02 08:21:15.307024+00', NULL);
INSERT INTO public.auth_tokens VALUES ('\x104d188274ec914b4db56b3d9bdda52ea9c2baf02e94f5b3f6e7b20718226ec6', '32e6879d-2009-404f-b2fa-3861b075315f', NULL, '2026-12-03 08:21:16.680701+00', '2027-01-02 08:21:16.680701+00', NULL);


--
-- Data for Name: devices; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.devices VALUES ('0a000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000a', NULL, NULL, '2026-12-03 08:21:16.725297+00');
INSERT INTO public.devices VALUES ('0a000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000b', NULL, NULL, '2026-12-03 08:21:16.853754+00');


--
-- Data for Name: device_ownerships; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.device_ownerships VALUES ('0a000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000a', '32e6879d-2009-404f-b2fa-3861b075315f', '2026-12-03 08:21:16.791062+00', NULL);
INSERT INTO public.device_ownerships VALUES ('0a000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000b', '32e6879d-2009-404f-b2fa-3861b075315f', '2026-12-03 08:21:16.885889+00', NULL);


--
-- Data for Name: entities; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.entities VALUES ('0a000000-0000-4000-8000-000000000001', '0f000000-0000-4000-8000-000000000002', '0b000000-0000-4000-8000-000000000001', '0d000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000002', '{"fields":{"name":[{"value":"Rahim K.","replica":"0e000000-0000-4000-8000-00000000000a","counter":9,"editedAt":"2026-11-20T08:15:06.000Z"}]},"version":{"0e000000-0000-4000-8000-00000000000a":9}}', '{"kind":"entity","id":"0f000000-0000-4000-8000-000000000002","projectId":"0b000000-0000-4000-8000-000000000001","entityTypeId":"0d000000-0000-4000-8000-000000000001","orgUnitId":"0c000000-0000-4000-8000-000000000002","fields":{"name":"Rahim K."},"version":{"0e000000-0000-4000-8000-00000000000a":9}}', false, '32e6879d-2009-404f-b2fa-3861b075315f', '2026-12-03 08:21:16.966554+00', '2026-12-03 08:21:17.076022+00', '740', 7);
INSERT INTO public.entities VALUES ('0a000000-0000-4000-8000-000000000001', '0f000000-0000-4000-8000-000000000001', '0b000000-0000-4000-8000-000000000001', '0d000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000002', '{"fields":{"age":[{"value":"31","replica":"0e000000-0000-4000-8000-00000000000b","counter":8,"editedAt":"2026-11-20T08:15:04.000Z"}],"name":[{"value":"Amina K.","replica":"0e000000-0000-4000-8000-00000000000a","counter":12,"editedAt":"2026-11-20T08:15:07.000Z"}],"village":[{"value":"Subil bazar","replica":"0e000000-0000-4000-8000-00000000000b","counter":20,"editedAt":"2026-11-20T08:15:09.000Z"}]},"version":{"0e000000-0000-4000-8000-00000000000b":20,"server":1,"0e000000-0000-4000-8000-00000000000a":12}}', '{"kind":"entity","id":"0f000000-0000-4000-8000-000000000001","projectId":"0b000000-0000-4000-8000-000000000001","entityTypeId":"0d000000-0000-4000-8000-000000000001","orgUnitId":"0c000000-0000-4000-8000-000000000002","fields":{"age":"31","name":"Amina K.","village":"Subil bazar"},"version":{"0e000000-0000-4000-8000-00000000000b":20,"server":1,"0e000000-0000-4000-8000-00000000000a":12}}', false, '32e6879d-2009-404f-b2fa-3861b075315f', '2026-12-03 08:21:16.966554+00', '2026-12-03 08:21:17.296556+00', '744', 12);


--
-- Data for Name: entity_types; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.entity_types VALUES ('0a000000-0000-4000-8000-000000000001', '0d000000-0000-4000-8000-000000000001', 'Household', '2026-12-03 08:21:15.474639+00');


--
-- Data for Name: forms; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.forms VALUES ('0a000000-0000-4000-8000-000000000001', '98b1d2bb-21d7-43ff-81dd-1fad161e805d', 'visit', 'Visit', '{0b000000-0000-4000-8000-000000000001}', '2026-12-03 08:21:15.516527+00');


--
-- Data for Name: form_versions; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.form_versions VALUES ('0a000000-0000-4000-8000-000000000001', '98b1d2bb-21d7-43ff-81dd-1fad161e805d', '1', '[{"name": "members", "type": "integer"}]', '2026-12-03 08:21:15.516527+00');


--
-- Data for Name: instance_attachments; Type: TABLE DATA; Schema: public; Owner: postgres
--



--
-- Data for Name: instances; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.instances VALUES ('0a000000-0000-4000-8000-000000000001', '1a000000-0000-4000-8000-000000000001', '0b000000-0000-4000-8000-000000000001', '98b1d2bb-21d7-43ff-81dd-1fad161e805d', '1', '0c000000-0000-4000-8000-000000000002', '0f000000-0000-4000-8000-000000000001', NULL, NULL, NULL, '[]', true, false, '{"fields":{"members":[{"value":5,"replica":"0e000000-0000-4000-8000-00000000000a","counter":15,"editedAt":"2026-11-20T08:17:00.000Z"}]},"version":{"0e000000-0000-4000-8000-00000000000a":15}}', '{"id": "1a000000-0000-4000-8000-000000000001", "kind": "instance", "fields": {"members": 5}, "formId": "", "period": null, "version": {"0e000000-0000-4000-8000-00000000000a": 15}, "complete": true, "entityId": "0f000000-0000-4000-8000-000000000001", "location": null, "orgUnitId": "0c000000-0000-4000-8000-000000000002", "projectId": "0b000000-0000-4000-8000-000000000001", "formVersion": "1", "outsideOrgUnit": false}', false, '32e6879d-2009-404f-b2fa-3861b075315f', '2026-12-03 08:21:17.120497+00', '2026-12-03 08:21:17.168649+00', '742', 10);


--
-- Data for Name: login_failures; Type: TABLE DATA; Schema: public; Owner: postgres
--



--
-- Data for Name: org_units; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.org_units VALUES ('0a000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000001', NULL, NULL, 'Country', NULL, 'u0c000000000040008000000000000001', NULL, NULL, NULL, NULL, '{}', 'validated', '{"fields": {"name": [{"value": "Country", "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "aliases": [{"value": [], "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "geometry": [{"value": null, "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "location": [{"value": null, "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "parentId": [{"value": null, "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "orgUnitTypeId": [{"value": null, "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}]}, "version": {"server": 1}}', '{"server": 1}', '{"id": "0c000000-0000-4000-8000-000000000001", "kind": "orgUnit", "fields": {"name": "Country", "aliases": [], "geometry": null, "location": null, "parentId": null, "orgUnitTypeId": null}, "status": "validated", "version": {"server": 1}, "projectId": null}', 'c9679039-b97c-4936-bccb-1410a3b2abca', '2026-12-03 08:21:15.404505+00', '2026-12-03 08:21:15.404505+00', '731', 1);
INSERT INTO public.org_units VALUES ('0a000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000002', NULL, '0c000000-0000-4000-8000-000000000001', 'District (renamed)', NULL, 'u0c000000000040008000000000000001.u0c000000000040008000000000000002', '0106000020E6100000010000000103000000010000000500000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F0000000000000000000000000000F03F00000000000000000000000000000000', '0106000020E6100000010000000103000000010000000500000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F0000000000000000000000000000F03F00000000000000000000000000000000', '0101000020E6100000000000000000E03F000000000000E03F', NULL, '{}', 'validated', '{"fields": {"name": [{"value": "District (renamed)", "counter": 21, "replica": "0e000000-0000-4000-8000-00000000000a", "editedAt": "2026-11-20T08:18:00.000Z"}], "aliases": [{"value": [], "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "geometry": [{"value": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]]}, "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "location": [{"value": null, "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "parentId": [{"value": "0c000000-0000-4000-8000-000000000001", "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}], "orgUnitTypeId": [{"value": null, "counter": 1, "replica": "server", "editedAt": "2026-12-03T08:21:15.430Z"}]}, "version": {"server": 1, "0e000000-0000-4000-8000-00000000000a": 21}}', '{"server": 1, "0e000000-0000-4000-8000-00000000000a": 21}', '{"id": "0c000000-0000-4000-8000-000000000002", "kind": "orgUnit", "fields": {"name": "District (renamed)", "aliases": [], "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]]}, "location": null, "parentId": "0c000000-0000-4000-8000-000000000001", "orgUnitTypeId": null}, "status": "validated", "version": {"server": 1, "0e000000-0000-4000-8000-00000000000a": 21}, "projectId": null}', 'c9679039-b97c-4936-bccb-1410a3b2abca', '2026-12-03 08:21:15.404505+00', '2026-12-03 08:21:17.392481+00', '745', 14);
INSERT INTO public.org_units VALUES ('0a000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000003', NULL, '0c000000-0000-4000-8000-000000000002', 'Village', NULL, 'u0c000000000040008000000000000001.u0c000000000040008000000000000002.u0c000000000040008000000000000003', NULL, NULL, NULL, NULL, '{}', 'validated', '{"fields": {"name": [{"value": "Village", "counter": 22, "replica": "0e000000-0000-4000-8000-00000000000a", "editedAt": "2026-11-20T08:18:30.000Z"}], "parentId": [{"value": "0c000000-0000-4000-8000-000000000002", "counter": 22, "replica": "0e000000-0000-4000-8000-00000000000a", "editedAt": "2026-11-20T08:18:30.000Z"}]}, "version": {"0e000000-0000-4000-8000-00000000000a": 22}}', '{"0e000000-0000-4000-8000-00000000000a": 22}', '{"id": "0c000000-0000-4000-8000-000000000003", "kind": "orgUnit", "fields": {"name": "Village", "parentId": "0c000000-0000-4000-8000-000000000002"}, "status": "validated", "version": {"0e000000-0000-4000-8000-00000000000a": 22}, "projectId": null}', '32e6879d-2009-404f-b2fa-3861b075315f', '2026-12-03 08:21:17.392481+00', '2026-12-03 08:21:17.392481+00', '745', 15);


--
-- Data for Name: orgunit_change_requests; Type: TABLE DATA; Schema: public; Owner: postgres
--



--
-- Data for Name: orgunit_types; Type: TABLE DATA; Schema: public; Owner: postgres
--



--
-- Data for Name: positions; Type: TABLE DATA; Schema: public; Owner: postgres
--



--
-- Data for Name: projects; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.projects VALUES ('0a000000-0000-4000-8000-000000000001', '0b000000-0000-4000-8000-000000000001', 'Survey', 'test.survey', '2026-12-03 08:21:15.372546+00');


--
-- Data for Name: push_batches; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.push_batches VALUES ('0a000000-0000-4000-8000-000000000001', 'b9ae29dd-c9bf-4045-a7ab-810c566dd5c2', '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '{"batchId":"b9ae29dd-c9bf-4045-a7ab-810c566dd5c2","results":[{"id":"0f000000-0000-4000-8000-000000000001","kind":"entity","status":"created","version":{"0e000000-0000-4000-8000-00000000000a":3}},{"id":"0f000000-0000-4000-8000-000000000002","kind":"entity","status":"created","version":{"0e000000-0000-4000-8000-00000000000a":4}}],"cursor":"c1.738.4"}', '2026-12-03 08:21:16.966554+00');
INSERT INTO public.push_batches VALUES ('0a000000-0000-4000-8000-000000000001', '7911aa32-b0d4-4d79-b626-7f5ad284e907', '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000b', '{"batchId":"7911aa32-b0d4-4d79-b626-7f5ad284e907","results":[{"id":"0f000000-0000-4000-8000-000000000001","kind":"entity","status":"updated","version":{"0e000000-0000-4000-8000-00000000000a":3,"0e000000-0000-4000-8000-00000000000b":5}},{"id":"0f000000-0000-4000-8000-000000000001","kind":"entity","status":"updated","version":{"0e000000-0000-4000-8000-00000000000a":3,"0e000000-0000-4000-8000-00000000000b":8}}],"cursor":"c1.739.5"}', '2026-12-03 08:21:17.031089+00');
INSERT INTO public.push_batches VALUES ('0a000000-0000-4000-8000-000000000001', '0a2d3974-9335-4ef2-9a9b-009c5b68d710', '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '{"batchId":"0a2d3974-9335-4ef2-9a9b-009c5b68d710","results":[{"id":"0f000000-0000-4000-8000-000000000001","kind":"entity","status":"conflict","version":{"0e000000-0000-4000-8000-00000000000a":7,"0e000000-0000-4000-8000-00000000000b":8}},{"id":"0f000000-0000-4000-8000-000000000002","kind":"entity","status":"updated","version":{"0e000000-0000-4000-8000-00000000000a":9}},{"id":"0f000000-0000-4000-8000-000000000001","kind":"entity","status":"conflict","version":{"0e000000-0000-4000-8000-00000000000a":12,"0e000000-0000-4000-8000-00000000000b":8}}],"cursor":"c1.740.7"}', '2026-12-03 08:21:17.076022+00');
INSERT INTO public.push_batches VALUES ('0a000000-0000-4000-8000-000000000001', 'dad0c1bc-c3e8-4144-b70d-a24e94d399b5', '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '{"batchId":"dad0c1bc-c3e8-4144-b70d-a24e94d399b5","results":[{"id":"1a000000-0000-4000-8000-000000000001","kind":"instance","status":"created","version":{"0e000000-0000-4000-8000-00000000000a":13}}],"cursor":"c1.741.8"}', '2026-12-03 08:21:17.120497+00');
INSERT INTO public.push_batches VALUES ('0a000000-0000-4000-8000-000000000001', '0b4f7b0c-17a1-414b-b808-db9561e08784', '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '{"batchId":"0b4f7b0c-17a1-414b-b808-db9561e08784","results":[{"id":"1a000000-0000-4000-8000-000000000001","kind":"instance","status":"updated","version":{"0e000000-0000-4000-8000-00000000000a":15}}],"cursor":"c1.742.10"}', '2026-12-03 08:21:17.168649+00');
INSERT INTO public.push_batches VALUES ('0a000000-0000-4000-8000-000000000001', 'c0c225e2-fd11-4d86-bc72-8035c2f1e7ad', '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000b', '{"batchId":"c0c225e2-fd11-4d86-bc72-8035c2f1e7ad","results":[{"id":"0f000000-0000-4000-8000-000000000001","kind":"entity","status":"updated","version":{"0e000000-0000-4000-8000-00000000000a":12,"0e000000-0000-4000-8000-00000000000b":20,"server":1}}],"cursor":"c1.744.12"}', '2026-12-03 08:21:17.296556+00');
INSERT INTO public.push_batches VALUES ('0a000000-0000-4000-8000-000000000001', '11452dbb-1ae0-4822-bfdd-3992386a1b13', '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '{"batchId":"11452dbb-1ae0-4822-bfdd-3992386a1b13","results":[{"id":"0c000000-0000-4000-8000-000000000002","kind":"orgUnit","status":"updated","version":{"0e000000-0000-4000-8000-00000000000a":21,"server":1}},{"id":"0c000000-0000-4000-8000-000000000003","kind":"orgUnit","status":"created","version":{"0e000000-0000-4000-8000-00000000000a":22}}],"cursor":"c1.745.15"}', '2026-12-03 08:21:17.392481+00');


--
-- Data for Name: record_writes; Type: TABLE DATA; Schema: public; Owner: postgres
--

INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000a', 3, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', 'b9ae29dd-c9bf-4045-a7ab-810c566dd5c2', '2026-12-03 08:21:16.966554+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000002', '0e000000-0000-4000-8000-00000000000a', 4, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', 'b9ae29dd-c9bf-4045-a7ab-810c566dd5c2', '2026-12-03 08:21:16.966554+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000b', 5, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000b', '7911aa32-b0d4-4d79-b626-7f5ad284e907', '2026-12-03 08:21:17.031089+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000b', 8, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000b', '7911aa32-b0d4-4d79-b626-7f5ad284e907', '2026-12-03 08:21:17.031089+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000a', 7, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '0a2d3974-9335-4ef2-9a9b-009c5b68d710', '2026-12-03 08:21:17.076022+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000002', '0e000000-0000-4000-8000-00000000000a', 9, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '0a2d3974-9335-4ef2-9a9b-009c5b68d710', '2026-12-03 08:21:17.076022+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000a', 12, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '0a2d3974-9335-4ef2-9a9b-009c5b68d710', '2026-12-03 08:21:17.076022+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'instance', '1a000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000a', 13, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', 'dad0c1bc-c3e8-4144-b70d-a24e94d399b5', '2026-12-03 08:21:17.120497+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'instance', '1a000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000a', 15, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '0b4f7b0c-17a1-414b-b808-db9561e08784', '2026-12-03 08:21:17.168649+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000001', 'server', 1, '32e6879d-2009-404f-b2fa-3861b075315f', NULL, NULL, '2026-12-03 08:21:17.270007+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'entity', '0f000000-0000-4000-8000-000000000001', '0e000000-0000-4000-8000-00000000000b', 20, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000b', 'c0c225e2-fd11-4d86-bc72-8035c2f1e7ad', '2026-12-03 08:21:17.296556+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'orgUnit', '0c000000-0000-4000-8000-000000000002', '0e000000-0000-4000-8000-00000000000a', 21, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '11452dbb-1ae0-4822-bfdd-3992386a1b13', '2026-12-03 08:21:17.392481+00');
INSERT INTO public.record_writes VALUES ('0a000000-0000-4000-8000-000000000001', 'orgUnit', '0c000000-0000-4000-8000-000000000003', '0e000000-0000-4000-8000-00000000000a', 22, '32e6879d-2009-404f-b2fa-3861b075315f', '0e000000-0000-4000-8000-00000000000a', '11452dbb-1ae0-4822-bfdd-3992386a1b13', '2026-12-03 08:21:17.392481+00');


--
-- Name: feed_seq; Type: SEQUENCE SET; Schema: public; Owner: postgres
--

SELECT pg_catalog.setval('public.feed_seq', 15, true);


--
-- PostgreSQL database dump complete
--


