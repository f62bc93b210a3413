// kosapo-case: see services/case/case_server.h and README.md.
#include "services/case/case_server.h"

int main(int argc, char** argv) {
  return kosapo::server::ServiceMain(argc, argv, kosapo::cases::Descriptor(),
                                     kosapo::cases::Migrations(),
                                     kosapo::cases::Setup);
}
